#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Helpers shared by the fuzz targets: invariant checks that crash loudly (so libFuzzer keeps the
/// input) and a cursor that takes steering bytes off the front of an input.

/// Stops the process with `message` when `condition` is false: libFuzzer records the input as a
/// crash. Used for invariants the decoders must hold (split-vs-whole agreement, output bounds,
/// round trips); decoders that throw their typed errors are not failures.
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if condition() { return }
    printError("fuzz invariant violated at \(file):\(line): \(message())")
    abort()
}

/// Writes `text` and a newline to standard error, unbuffered.
public func printError(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Copies libFuzzer's input into an array.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// Takes steering bytes off the front of an input; what is left is the payload.
public struct FuzzInput {
    public private(set) var bytes: ArraySlice<UInt8>

    public init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    /// The next byte, or 0 when the input is exhausted.
    public mutating func byte() -> UInt8 {
        guard let first = bytes.first else { return 0 }
        bytes = bytes.dropFirst()
        return first
    }

    /// The next two bytes as a big-endian number, 0 for missing bytes.
    public mutating func uint16() -> UInt16 {
        UInt16(byte()) << 8 | UInt16(byte())
    }

    /// The rest of the input.
    public var rest: [UInt8] { Array(bytes) }
}

/// Writes `seeds` as numbered files into the directory named by `TRIBUTARY_FUZZ_WRITE_SEEDS`,
/// then exits, when that variable is set (Tools/fuzz.sh uses it to build the corpus from the
/// same encoders the tests use). Does nothing otherwise.
public func writeSeedsIfAsked(_ seeds: () -> [[UInt8]]) {
    guard let directory = getenv("TRIBUTARY_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }), !directory.isEmpty else { return }
    for (index, seed) in seeds().enumerated() {
        let path = "\(directory)/generated-\(index)"
        guard let file = fopen(path, "wb") else {
            printError("cannot write \(path)")
            exit(1)
        }
        _ = seed.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    exit(0)
}
