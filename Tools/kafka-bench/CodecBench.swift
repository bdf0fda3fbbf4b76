// kafka-bench codec: compression ratio and throughput of TributaryCompression's codecs on three
// corpora, next to the reference `zstd -1` (when the zstd CLI is on PATH). No broker needed.
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ToolSupport
import TributaryCompression

enum CodecBench {
    static let usageText = """
    usage: kafka-bench codec [--text FILE] [--seconds S] [--codec C]
      compresses and decompresses three corpora in memory, each for about S seconds (default 1),
      reporting the fastest run:
      1 MiB of JSON order events, FILE (default README.md) as text, and the records section of a
      batch of 8,000 kafka-bench records (100-byte values); prints sizes, MB/s and, when the zstd
      CLI is on PATH, zstd -1's size; --codec limits the run to one codec (default all but none)
    """

    /// JSON order events, one per line, `size` bytes (a fixed sequence, the same every run).
    static func orderEvents(size: Int) -> [UInt8] {
        var state: UInt64 = 0x2575
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let statuses = ["created", "paid", "shipped", "delivered", "cancelled"]
        let currencies = ["EUR", "USD", "GBP", "CHF"]
        var out: [UInt8] = []
        var id = 0
        var timestamp = 1_733_450_000_000
        while out.count < size {
            timestamp += Int(next() % 2000)
            let line = "{\"order_id\":\"ord-\(BenchOutput.zeroPadded(id, 6))\",\"customer\":\"c-\(next() % 1000)\","
                + "\"amount\":\(next() % 1000).\(BenchOutput.zeroPadded(Int(next() % 100), 2)),\"currency\":\"\(currencies[Int(next() % 4)])\","
                + "\"status\":\"\(statuses[Int(next() % 5)])\",\"ts\":\(timestamp)}\n"
            out.append(contentsOf: line.utf8)
            id += 1
        }
        return Array(out.prefix(size))
    }

    /// The records section of a v2 batch as `kafka-bench produce` fills it: no key, a 100-byte
    /// value of "a", no headers.
    static func benchRecords(count: Int) -> [UInt8] {
        func varint(_ value: Int, into out: inout [UInt8]) {
            var zigzag = UInt64(bitPattern: Int64((value << 1) ^ (value >> 63)))
            while zigzag >= 0x80 {
                out.append(UInt8(zigzag & 0x7F) | 0x80)
                zigzag >>= 7
            }
            out.append(UInt8(zigzag))
        }
        var out: [UInt8] = []
        for index in 0..<count {
            var body: [UInt8] = [0]
            varint(index / 50, into: &body)
            varint(index, into: &body)
            varint(-1, into: &body)
            varint(100, into: &body)
            body += [UInt8](repeating: 0x61, count: 100)
            varint(0, into: &body)
            varint(body.count, into: &out)
            out += body
        }
        return out
    }

    /// Size of `zstd -1`'s frame for `input`, or nil without the CLI.
    static func referenceSize(_ input: [UInt8]) async -> Int? {
        guard let outcome = try? await ShellCommand.run("command -v zstd >/dev/null && exec zstd -1 -c -q --stream-size=\(input.count)", input: input),
              outcome.status == 0, !outcome.output.isEmpty else { return nil }
        return outcome.output.count
    }

    /// Runs `body` repeatedly for about `seconds`; returns bytes per second of the fastest run
    /// (like `zstd -b`, so that other work on a shared machine disturbs the figure less).
    static func throughput(bytes: Int, seconds: Double, _ body: () throws -> Void) rethrows -> Double {
        let clock = ContinuousClock()
        func inSeconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        }
        try body()  // warm-up
        var fastest = Double.infinity
        let start = clock.now
        repeat {
            let runStart = clock.now
            try body()
            fastest = min(fastest, inSeconds(clock.now - runStart))
        } while inSeconds(clock.now - start) < seconds
        return Double(bytes) / fastest
    }

    static func run(_ arguments: [String]) async -> Int32 {
        var textPath = "README.md"
        var seconds = 1.0
        var codecs: [KafkaCompressionCodec] = [.zstd, .lz4, .snappy, .gzip]
        var index = 0
        func value() -> String {
            index += 1
            guard index < arguments.count else {
                StandardStreams.writeError(text: "kafka-bench codec: \(arguments[index - 1]) needs a value\n\(usageText)\n")
                exit(1)
            }
            return arguments[index]
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--text": textPath = value()
            case "--seconds": seconds = Double(value()) ?? 1
            case "--codec":
                let name = value()
                guard let codec = KafkaCompressionCodec.allCases.first(where: { $0.description == name }), codec != .none else {
                    StandardStreams.writeError(text: "kafka-bench codec: --codec must be gzip, snappy, lz4 or zstd\n")
                    return 1
                }
                codecs = [codec]
            case "-h", "--help":
                print(usageText)
                return 0
            default:
                StandardStreams.writeError(text: "kafka-bench codec: unexpected argument '\(arguments[index])'\n\(usageText)\n")
                return 1
            }
            index += 1
        }
        guard let text = FileManager.default.contents(atPath: textPath) else {
            StandardStreams.writeError(text: "kafka-bench codec: cannot read \(textPath); give a text file with --text\n")
            return 1
        }
        let corpora: [(String, [UInt8])] = [
            ("json-orders", orderEvents(size: 1 << 20)),
            ("text", [UInt8](text)),
            ("kafka-bench-records", benchRecords(count: 8000)),
        ]
        var rows: [[String: Any]] = []
        print("kafka-bench codec (Tributary) on \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("  corpus               bytes     codec   compressed  zstd -1  vs -1  compress MB/s  decompress MB/s")
        for (name, input) in corpora {
            let reference = codecs.contains(.zstd) ? await referenceSize(input) : nil
            for kind in codecs {
                do {
                    let codec = try Compression.codec(for: kind)
                    let compressed = try codec.compress(input)
                    guard try codec.decompress(compressed, limit: input.count) == input else {
                        StandardStreams.writeError(text: "kafka-bench codec: \(kind) did not round-trip \(name)\n")
                        return 2
                    }
                    let compressRate = try throughput(bytes: input.count, seconds: seconds) { _ = try codec.compress(input) }
                    let decompressRate = try throughput(bytes: input.count, seconds: seconds) { _ = try codec.decompress(compressed, limit: input.count) }
                    var row: [String: Any] = [
                        "corpus": name, "bytes": input.count, "codec": kind.description, "compressed": compressed.count,
                        "compress_mbps": (compressRate / 1e5).rounded() / 10, "decompress_mbps": (decompressRate / 1e5).rounded() / 10,
                    ]
                    var referenceText = "-"
                    var ratioText = "-"
                    if kind == .zstd, let reference {
                        row["zstd_1"] = reference
                        row["vs_zstd_1"] = (Double(compressed.count) / Double(reference) * 1000).rounded() / 1000
                        referenceText = String(reference)
                        ratioText = BenchReport.fixed(Double(compressed.count) / Double(reference), digits: 2) + "x"
                    }
                    rows.append(row)
                    let pad = BenchOutput.pad
                    print("  " + pad(name, 20) + pad(String(input.count), 10) + pad(kind.description, 8) + pad(String(compressed.count), 12)
                        + pad(referenceText, 9) + pad(ratioText, 7) + pad(BenchReport.fixed(compressRate / 1e6, digits: 0), 15)
                        + BenchReport.fixed(decompressRate / 1e6, digits: 0))
                } catch {
                    StandardStreams.writeError(text: "kafka-bench codec: \(kind) on \(name): \(error)\n")
                    return 2
                }
            }
        }
        let summary: [String: Any] = ["mode": "codec", "cores": ProcessInfo.processInfo.activeProcessorCount, "results": rows]
        print(BenchOutput.json(summary))
        return 0
    }
}
