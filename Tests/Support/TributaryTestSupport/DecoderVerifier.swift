import TributaryNATSProtocol

/// Feeds NATS frames to a fresh `NATSParser` in every way a socket could split them.
///
/// For each input it checks: the whole input at once, byte by byte, split at every offset into two
/// reads, and all inputs concatenated. Each way must produce exactly the expected frames.
public enum NATSDecoderVerifier {
    /// A mismatch found by the verifier.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Verifies that `input` decodes to `expected` however it is split.
    public static func verify(_ cases: [(input: [UInt8], expected: [NATSServerOp])],
                              makeParser: () -> NATSParser = { NATSParser() }) throws {
        for (index, testCase) in cases.enumerated() {
            try check(label: "case \(index) whole", chunks: [testCase.input], expected: testCase.expected, makeParser)
            try check(label: "case \(index) byte by byte", chunks: testCase.input.map { [$0] }, expected: testCase.expected, makeParser)
            for split in 0...testCase.input.count {
                try check(label: "case \(index) split at \(split)",
                          chunks: [Array(testCase.input[..<split]), Array(testCase.input[split...])],
                          expected: testCase.expected, makeParser)
            }
        }
        let all = cases.flatMap(\.input)
        let expectedAll = cases.flatMap(\.expected)
        try check(label: "all cases concatenated", chunks: [all], expected: expectedAll, makeParser)
        try check(label: "all cases concatenated, 7-byte reads", chunks: stride(from: 0, to: all.count, by: 7).map { Array(all[$0..<min($0 + 7, all.count)]) },
                  expected: expectedAll, makeParser)
    }

    private static func check(label: String, chunks: [[UInt8]], expected: [NATSServerOp], _ makeParser: () -> NATSParser) throws {
        var parser = makeParser()
        var got: [NATSServerOp] = []
        for chunk in chunks {
            parser.append(chunk)
            while let op = try parser.next() { got.append(op) }
        }
        guard got == expected else {
            throw Failure(description: "\(label): expected \(expected.count) frames \(expected), got \(got.count) \(got)")
        }
        guard parser.bufferedCount == 0 else {
            throw Failure(description: "\(label): \(parser.bufferedCount) bytes left unconsumed")
        }
    }

    /// Decodes `input` whole and returns the frames, or the error thrown.
    public static func decodeAll(_ input: [UInt8], makeParser: () -> NATSParser = { NATSParser() }) -> Result<[NATSServerOp], NATSProtocolError> {
        var parser = makeParser()
        parser.append(input)
        var got: [NATSServerOp] = []
        do {
            while let op = try parser.next() { got.append(op) }
            return .success(got)
        } catch {
            return .failure(error)
        }
    }
}

/// A deterministic RNG for property tests (SplitMix64); print the seed on failure.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    /// The seed this generator started from.
    public let seed: UInt64

    /// Creates a generator; with no seed, one is drawn from the system and can be read back from `seed`.
    public init(seed: UInt64? = nil) {
        let value = seed ?? UInt64.random(in: 0...UInt64.max)
        self.seed = value
        state = value
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
