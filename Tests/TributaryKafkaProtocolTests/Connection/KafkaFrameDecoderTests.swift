import Testing
import TributaryKafkaProtocol
import TributaryWire

@Suite("Kafka response frame splitting")
struct KafkaFrameDecoderTests {
    private static func frame(_ correlationID: Int32, _ body: [UInt8]) -> [UInt8] {
        var writer = ByteWriter()
        writer.writeInt32(Int32(4 + body.count))
        writer.writeInt32(correlationID)
        writer.writeRawBytes(body)
        return writer.bytes
    }

    private static let stream: [UInt8] = frame(1, []) + frame(2, Array(0..<200)) + frame(3, [0xff]) + frame(4, Array(repeating: 7, count: 5000))
    private static let expected: [[UInt8]] = [
        [0, 0, 0, 1],
        [0, 0, 0, 2] + Array(0..<200),
        [0, 0, 0, 3, 0xff],
        [0, 0, 0, 4] + Array(repeating: 7, count: 5000),
    ]

    private static func drain(_ decoder: inout KafkaFrameDecoder) throws -> [[UInt8]] {
        var frames: [[UInt8]] = []
        while let frame = try decoder.next() { frames.append(frame) }
        return frames
    }

    @Test func wholeStreamGivesEveryFrame() throws {
        var decoder = KafkaFrameDecoder()
        decoder.append(Self.stream)
        #expect(try Self.drain(&decoder) == Self.expected)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func splitAtEveryOffset() throws {
        for split in 0...Self.stream.count {
            var decoder = KafkaFrameDecoder()
            decoder.append(Array(Self.stream[..<split]))
            var frames = try Self.drain(&decoder)
            decoder.append(Array(Self.stream[split...]))
            frames += try Self.drain(&decoder)
            #expect(frames == Self.expected, "split at \(split)")
        }
    }

    @Test func byteByByte() throws {
        var decoder = KafkaFrameDecoder()
        var frames: [[UInt8]] = []
        for byte in Self.stream {
            decoder.append([byte])
            frames += try Self.drain(&decoder)
        }
        #expect(frames == Self.expected)
    }

    /// Frames of 64 KiB and more get their whole size reserved once an eighth has arrived, and one
    /// that fills the buffer exactly is handed over without a copy: the bytes must come out the
    /// same however the stream is cut, the prefix split included, and with frames after them.
    @Test(arguments: [1, 2, 3, 4, 5, 1000, 65_536, 300_000])
    func largeFramesComeOutWholeForEveryChunkSize(chunk: Int) throws {
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let stream = Self.frame(9, big) + Self.frame(10, [1, 2]) + Self.frame(11, big)
        var decoder = KafkaFrameDecoder()
        var frames: [[UInt8]] = []
        var offset = 0
        while offset < stream.count {
            let end = min(offset + chunk, stream.count)
            decoder.append(Array(stream[offset..<end]))
            frames += try Self.drain(&decoder)
            offset = end
        }
        #expect(frames == [[0, 0, 0, 9] + big, [0, 0, 0, 10, 1, 2], [0, 0, 0, 11] + big])
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func partialFrameIsNotConsumed() throws {
        var decoder = KafkaFrameDecoder()
        let one = Self.frame(9, [1, 2, 3])
        decoder.append(Array(one.dropLast()))
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedByteCount == one.count - 1)
    }

    @Test func oversizeFrameIsRejectedBeforeAllocating() {
        var decoder = KafkaFrameDecoder(maxFrameSize: 1024)
        decoder.append([0x7f, 0xff, 0xff, 0xff])
        let error = #expect(throws: WireDecodingError.self) { _ = try decoder.next() }
        #expect(error?.code == .limitExceeded)
        #expect(error?.expected.contains("1024") == true)
    }

    @Test(arguments: [[UInt8]([0xff, 0xff, 0xff, 0xff]), [0, 0, 0, 0], [0, 0, 0, 3]])
    func negativeOrTooShortSizeIsRejected(prefix: [UInt8]) {
        var decoder = KafkaFrameDecoder()
        decoder.append(prefix)
        let error = #expect(throws: WireDecodingError.self) { _ = try decoder.next() }
        #expect(error?.code == .invalidLength)
    }
}

@Suite("Kafka API version negotiation")
struct KafkaApiVersionTableTests {
    @Test func picksTheHighestCommonVersion() throws {
        let table = KafkaApiVersionTable(brokerRanges: [KafkaAPIKey.produce.rawValue: 0...9, KafkaAPIKey.fetch.rawValue: 4...17])
        #expect(try table.version(for: .produce, clientRange: 3...11) == 9)
        #expect(try table.version(for: .fetch, clientRange: 4...12) == 12)
    }

    @Test func noOverlapNamesTheAPIAndBothRanges() {
        let table = KafkaApiVersionTable(brokerRanges: [KafkaAPIKey.produce.rawValue: 0...2])
        let error = #expect(throws: KafkaApiVersionTable.Mismatch.self) { _ = try table.version(for: .produce, clientRange: 3...11) }
        #expect(error?.description.contains("Produce") == true)
        #expect(error?.description.contains("3-11") == true)
        #expect(error?.description.contains("0-2") == true)
    }

    @Test func missingAPISaysTheBrokerHasNone() {
        let table = KafkaApiVersionTable(brokerRanges: [:])
        let error = #expect(throws: KafkaApiVersionTable.Mismatch.self) { _ = try table.version(for: .createPartitions) }
        #expect(error?.brokerRange == nil)
        #expect(error?.description.contains("no version at all") == true)
    }

    @Test func builtFromAnApiVersionsResponseIgnoringInvertedRanges() {
        var response = ApiVersionsResponse()
        response.apiKeys = [.init(apiKey: 3, minVersion: 0, maxVersion: 12), .init(apiKey: 1, minVersion: 5, maxVersion: 2)]
        let table = KafkaApiVersionTable(response)
        #expect(table.brokerRanges == [3: 0...12])
    }
}
