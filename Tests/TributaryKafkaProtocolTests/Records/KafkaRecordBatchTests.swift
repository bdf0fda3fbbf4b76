import Testing
import TributaryCompression
import TributaryKafkaProtocol
import TributaryTestSupport
import TributaryWire

/// A magic 2 batch written by hand from the Kafka protocol guide's "Record Batch" and "Record"
/// layouts (https://kafka.apache.org/documentation/#recordbatch). The CRC-32C was computed
/// with an independent bitwise Python implementation (check value of "123456789" = 0xE3069283)
/// over the 60 bytes from attributes to the end; nothing here comes from our encoder.
let goldenBatchHex = """
    00 00 00 00 00 00 00 05  // baseOffset 5
    00 00 00 45              // batchLength 69 = 49 header bytes after this field + 20 record bytes
    00 00 00 00              // partitionLeaderEpoch 0
    02                       // magic 2
    DD F6 16 D8              // crc (CRC-32C of attributes..end)
    00 00                    // attributes: no compression, CreateTime, not transactional, not control
    00 00 00 01              // lastOffsetDelta 1
    00 00 01 8B CF E5 68 00  // baseTimestamp 1700000000000
    00 00 01 8B CF E5 68 0A  // maxTimestamp 1700000000010
    FF FF FF FF FF FF FF FF  // producerId -1
    FF FF                    // producerEpoch -1
    FF FF FF FF              // baseSequence -1
    00 00 00 02              // records count 2
    // record 0
    12                       // length 9 (zigzag varint)
    00                       // attributes
    00                       // timestampDelta 0
    00                       // offsetDelta 0
    02 6B                    // key length 1, "k"
    04 76 31                 // value length 2, "v1"
    00                       // headers count 0
    // record 1
    12                       // length 9
    00                       // attributes
    14                       // timestampDelta 10
    02                       // offsetDelta 1
    01                       // key length -1 (null)
    00                       // value length 0 (empty)
    02                       // headers count 1
    02 68                    // header key length 1, "h"
    01                       // header value length -1 (null)
    """

let goldenRecords = [
    KafkaRecord(offset: 5, timestamp: 1_700_000_000_000, key: Array("k".utf8), value: Array("v1".utf8)),
    KafkaRecord(offset: 6, timestamp: 1_700_000_000_010, key: nil, value: [], headers: [(key: "h", value: nil)]),
]

/// Recomputes the CRC-32C of the magic 2 batch starting at `start` (after a test edits it).
func patchCRC32C(_ bytes: inout [UInt8], batchAt start: Int = 0) {
    let length = Int(bytes[start + 8]) << 24 | Int(bytes[start + 9]) << 16 | Int(bytes[start + 10]) << 8 | Int(bytes[start + 11])
    let crc = CRC32C.checksum(bytes[(start + 21)..<(start + 12 + length)])
    bytes[start + 17] = UInt8(truncatingIfNeeded: crc >> 24)
    bytes[start + 18] = UInt8(truncatingIfNeeded: crc >> 16)
    bytes[start + 19] = UInt8(truncatingIfNeeded: crc >> 8)
    bytes[start + 20] = UInt8(truncatingIfNeeded: crc)
}

/// Decodes `bytes`, returning the typed error instead of throwing.
func decodeResult(_ bytes: [UInt8], decoder: KafkaRecordBatchDecoder = KafkaRecordBatchDecoder()) -> Result<KafkaRecordSet, KafkaRecordError> {
    do throws(KafkaRecordError) {
        return .success(try decoder.decode(bytes))
    } catch {
        return .failure(error)
    }
}

@Suite("KafkaRecordBatch golden bytes")
struct KafkaRecordBatchGoldenTests {
    @Test func decodesHandWrittenBatch() throws {
        let set = try KafkaRecordBatchDecoder().decode(hexBytes(goldenBatchHex))
        #expect(set.truncatedByteCount == 0)
        #expect(set.batches.count == 1)
        let batch = try #require(set.batches.first)
        #expect(batch.baseOffset == 5)
        #expect(batch.batchLength == 69)
        #expect(batch.partitionLeaderEpoch == 0)
        #expect(batch.magic == 2)
        #expect(batch.crc == 0xDDF6_16D8)
        #expect(batch.attributes.compression == KafkaCompressionCodec.none)
        #expect(batch.attributes.timestampType == .createTime)
        #expect(!batch.isTransactional)
        #expect(!batch.isControl)
        #expect(batch.lastOffsetDelta == 1)
        #expect(batch.baseTimestamp == 1_700_000_000_000)
        #expect(batch.maxTimestamp == 1_700_000_000_010)
        #expect(batch.producerID == -1)
        #expect(batch.producerEpoch == -1)
        #expect(batch.baseSequence == -1)
        #expect(batch.recordCount == 2)
        #expect(batch.nextOffset == 7)
        #expect(set.nextOffset == 7)
        #expect(set.records == goldenRecords)
        #expect(set.records[1].key == nil)
        #expect(set.records[1].value == [])
        #expect(set.records[1].headers[0].value == nil)
    }

    @Test func encoderWritesTheHandWrittenBytes() throws {
        var encoder = KafkaRecordBatchEncoder()
        encoder.partitionLeaderEpoch = 0
        #expect(try encoder.encode(goldenRecords) == hexBytes(goldenBatchHex))
    }

    @Test func crc32cCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func logAppendTimeGivesEveryRecordTheMaxTimestamp() throws {
        var bytes = hexBytes(goldenBatchHex)
        bytes[22] = 0x08  // attributes bit 3: LogAppendTime
        // Pretend the broker stamped the batch later than the producer's timestamps.
        bytes[42] = 0x7F  // last byte of maxTimestamp
        patchCRC32C(&bytes)
        let set = try KafkaRecordBatchDecoder().decode(bytes)
        let batch = try #require(set.batches.first)
        #expect(batch.attributes.timestampType == .logAppendTime)
        #expect(set.records.map(\.timestamp) == [batch.maxTimestamp, batch.maxTimestamp])
        #expect(batch.maxTimestamp == 1_700_000_000_000 + 0x7F)
    }
}

@Suite("KafkaRecordBatch round trips")
struct KafkaRecordBatchRoundTripTests {
    static func sampleRecords(count: Int, seed: UInt64) -> [KafkaRecord] {
        var random = SeededRandom(seed: seed)
        var records: [KafkaRecord] = []
        for index in 0..<count {
            let valueLength = Int(random.next() % 300)
            let value: [UInt8]? = index % 7 == 3 ? nil : (0..<valueLength).map { UInt8(truncatingIfNeeded: $0 % 13 + index) }
            let key: [UInt8]? = index % 5 == 1 ? nil : Array("key-\(index)".utf8)
            var headers: [KafkaRecord.Header] = []
            for header in 0..<Int(random.next() % 3) {
                headers.append((key: "h\(header)", value: header == 1 ? nil : Array("hv\(index)".utf8)))
            }
            // Timestamps are not monotonic in real batches; deltas can be negative.
            let timestamp = 1_700_000_000_000 + Int64(random.next() % 2000) - 1000
            records.append(KafkaRecord(offset: Int64(index), timestamp: timestamp, key: key, value: value, headers: headers))
        }
        return records
    }

    @Test(arguments: KafkaCompressionCodec.allCases)
    func roundTripsWithCodec(_ codec: KafkaCompressionCodec) throws {
        let records = Self.sampleRecords(count: 50, seed: 0xC0DEC + UInt64(codec.rawValue))
        var encoder = KafkaRecordBatchEncoder(compression: codec)
        encoder.producerID = 4242
        encoder.producerEpoch = 3
        encoder.baseSequence = 17
        let bytes = try encoder.encode(records)
        let set = try KafkaRecordBatchDecoder().decode(bytes)
        let batch = try #require(set.batches.first)
        #expect(batch.attributes.compression == codec)
        #expect(batch.producerID == 4242)
        #expect(batch.producerEpoch == 3)
        #expect(batch.baseSequence == 17)
        #expect(batch.recordCount == 50)
        #expect(batch.lastOffsetDelta == 49)
        #expect(batch.maxTimestamp == records.map(\.timestamp).max())
        #expect(set.records == records)
    }

    @Test(arguments: KafkaCompressionCodec.allCases)
    func absoluteOffsetsFromANonZeroBase(_ codec: KafkaCompressionCodec) throws {
        let records = [
            KafkaRecord(offset: 1000, timestamp: 10, key: nil, value: nil),
            KafkaRecord(offset: 1001, timestamp: 5, key: [], value: []),
            KafkaRecord(offset: 1005, timestamp: 20, key: [1], value: [2], headers: [(key: "", value: []), (key: "a", value: nil)]),
        ]
        let bytes = try KafkaRecordBatchEncoder(compression: codec).encode(records)
        let set = try KafkaRecordBatchDecoder().decode(bytes)
        #expect(set.records == records)
        #expect(set.nextOffset == 1006)
        #expect(set.batches.first?.baseTimestamp == 10)
        #expect(set.batches.first?.maxTimestamp == 20)
    }

    @Test func severalBatchesInOneBlob() throws {
        var blob: [UInt8] = []
        var expected: [KafkaRecord] = []
        for (index, codec) in KafkaCompressionCodec.allCases.enumerated() {
            let records = Self.sampleRecords(count: 5, seed: UInt64(index)).map {
                KafkaRecord(offset: $0.offset + Int64(index * 5), timestamp: $0.timestamp, key: $0.key, value: $0.value, headers: $0.headers)
            }
            try KafkaRecordBatchEncoder(compression: codec).encode(records, into: &blob)
            expected += records
        }
        let set = try KafkaRecordBatchDecoder().decode(blob)
        #expect(set.batches.count == KafkaCompressionCodec.allCases.count)
        #expect(set.records == expected)
        #expect(set.truncatedByteCount == 0)
    }

    @Test func emptyBlobDecodesToNothing() throws {
        let set = try KafkaRecordBatchDecoder().decode([])
        #expect(set.batches.isEmpty)
        #expect(set.nextOffset == nil)
        #expect(set.truncatedByteCount == 0)
    }

    @Test func encoderRejectsInvalidRecords() {
        let encoder = KafkaRecordBatchEncoder()
        var buffer: [UInt8] = [9]
        #expect(throws: KafkaRecordError.self) { try encoder.encode([], into: &buffer) }
        let unordered = [KafkaRecord(offset: 2, timestamp: 0, value: nil), KafkaRecord(offset: 2, timestamp: 0, value: nil)]
        do throws(KafkaRecordError) {
            try encoder.encode(unordered, into: &buffer)
            Issue.record("repeated offsets were accepted")
        } catch {
            #expect(error.code == .invalidRecords)
            #expect(error.description.contains("increase"))
        }
        let farApart = [KafkaRecord(offset: 0, timestamp: 0, value: nil), KafkaRecord(offset: Int64(Int32.max) + 1, timestamp: 0, value: nil)]
        #expect(throws: KafkaRecordError.self) { try encoder.encode(farApart, into: &buffer) }
        #expect(buffer == [9], "nothing is appended when encoding fails")
    }
}

@Suite("KafkaRecordBatch decoding errors")
struct KafkaRecordBatchErrorTests {
    @Test func crcMismatchNamesTheBaseOffset() throws {
        var bytes = hexBytes(goldenBatchHex)
        bytes[bytes.count - 5] ^= 0x01  // a byte of record 1
        guard case .failure(let error) = decodeResult(bytes) else {
            Issue.record("a damaged batch decoded")
            return
        }
        #expect(error.code == .crcMismatch)
        #expect(error.baseOffset == 5)
        #expect(error.offset == 17)
        #expect(error.description.contains("base offset 5"))
        #expect(error.description.contains("fetch it again"))

        var lenient = KafkaRecordBatchDecoder()
        lenient.verifiesCRC = false
        #expect(try lenient.decode(bytes).records.count == 2)
    }

    @Test func unknownMagicIsAnError() {
        var bytes = hexBytes(goldenBatchHex)
        bytes[16] = 3
        guard case .failure(let error) = decodeResult(bytes) else {
            Issue.record("magic 3 decoded")
            return
        }
        #expect(error.code == .unsupportedMagic)
        #expect(error.offset == 16)
    }

    @Test func unknownCompressionIsAnError() {
        var bytes = hexBytes(goldenBatchHex)
        bytes[22] = 0x05
        patchCRC32C(&bytes)
        guard case .failure(let error) = decodeResult(bytes) else {
            Issue.record("codec 5 decoded")
            return
        }
        #expect(error.code == .unsupportedCompression)
    }

    @Test func hostileRecordCountAllocatesNothing() {
        var bytes = hexBytes(goldenBatchHex)
        bytes.replaceSubrange(57..<61, with: [0x7F, 0xFF, 0xFF, 0xFF])
        patchCRC32C(&bytes)
        guard case .failure(let error) = decodeResult(bytes) else {
            Issue.record("an impossible record count decoded")
            return
        }
        #expect(error.code == .malformed)
        #expect(error.offset == 57)
    }

    @Test func recordCountBelowTheRecordsPresentIsAnError() {
        var bytes = hexBytes(goldenBatchHex)
        bytes[60] = 1
        patchCRC32C(&bytes)
        guard case .failure(let error) = decodeResult(bytes) else {
            Issue.record("leftover records were ignored")
            return
        }
        #expect(error.code == .malformed)
        #expect(error.wireError?.code == .trailingBytes)
    }

    @Test func batchLengthBelowTheHeaderIsAnError() {
        var bytes = hexBytes(goldenBatchHex)
        bytes[11] = 0x10
        guard case .failure(let error) = decodeResult(bytes) else {
            Issue.record("a 16-byte batch decoded")
            return
        }
        #expect(error.code == .malformed)
        #expect(error.offset == 8)
    }

    @Test func decompressionIsBounded() throws {
        let records = [KafkaRecord(offset: 0, timestamp: 0, key: nil, value: [UInt8](repeating: 0x41, count: 100_000))]
        let bytes = try KafkaRecordBatchEncoder(compression: .gzip).encode(records)
        #expect(bytes.count < 2_000)
        let decoder = KafkaRecordBatchDecoder(maxDecompressedBatchBytes: 50_000)
        guard case .failure(let error) = decodeResult(bytes, decoder: decoder) else {
            Issue.record("the output limit was ignored")
            return
        }
        #expect(error.code == .decompressionFailed)
        #expect(error.compressionError?.code == .outputLimitExceeded)
        #expect(error.description.contains("maxDecompressedBatchBytes"))
        #expect(try KafkaRecordBatchDecoder().decode(bytes).records == records)
    }

    @Test func damagedCompressedRecordsAreATypedError() throws {
        let records = KafkaRecordBatchRoundTripTests.sampleRecords(count: 10, seed: 7)
        var bytes = try KafkaRecordBatchEncoder(compression: .gzip).encode(records)
        bytes[80] ^= 0xFF  // inside the deflate stream (the gzip header is bytes 61-70)
        patchCRC32C(&bytes)
        guard case .failure(let error) = decodeResult(bytes) else {
            Issue.record("damaged gzip decoded")
            return
        }
        #expect(error.code == .decompressionFailed || error.code == .malformed)
        #expect(error.baseOffset == 0)
    }
}

@Suite("KafkaRecordBatch truncation and fuzzing")
struct KafkaRecordBatchFuzzTests {
    @Test func truncatedTrailingBatchIsNotAnError() throws {
        let first = hexBytes(goldenBatchHex)
        let second = try KafkaRecordBatchEncoder(compression: .gzip).encode(
            KafkaRecordBatchRoundTripTests.sampleRecords(count: 8, seed: 3).map {
                KafkaRecord(offset: $0.offset + 7, timestamp: $0.timestamp, key: $0.key, value: $0.value, headers: $0.headers)
            })
        for cut in 0..<second.count {
            let set = try KafkaRecordBatchDecoder().decode(first + second[..<cut])
            #expect(set.batches.count == 1)
            #expect(set.records == goldenRecords)
            #expect(set.truncatedByteCount == cut)
            #expect(set.nextOffset == 7)
        }
        #expect(try KafkaRecordBatchDecoder().decode(first + second).records.count == 10)
    }

    @Test(arguments: KafkaCompressionCodec.allCases)
    func everyPrefixStopsCleanly(_ codec: KafkaCompressionCodec) throws {
        let bytes = try KafkaRecordBatchEncoder(compression: codec).encode(KafkaRecordBatchRoundTripTests.sampleRecords(count: 6, seed: 11))
        for cut in 0..<bytes.count {
            let set = try KafkaRecordBatchDecoder().decode(Array(bytes[..<cut]))
            #expect(set.batches.isEmpty)
            #expect(set.truncatedByteCount == cut)
        }
    }

    /// Shortens the batch length at every possible value (keeping the CRC valid over the shorter
    /// range), so the records section ends at every offset: a typed error, never a crash.
    @Test(arguments: [KafkaCompressionCodec.none, .gzip, .snappy, .lz4, .zstd])
    func everyShortenedBatchLengthGivesATypedError(_ codec: KafkaCompressionCodec) throws {
        let full = try KafkaRecordBatchEncoder(compression: codec).encode(KafkaRecordBatchRoundTripTests.sampleRecords(count: 6, seed: 12))
        for length in 49..<(full.count - 12) {
            var bytes = Array(full[..<(12 + length)])
            bytes.replaceSubrange(8..<12, with: [0, 0, UInt8(length >> 8), UInt8(length & 0xFF)])
            patchCRC32C(&bytes)
            if case .success(let set) = decodeResult(bytes) {
                Issue.record("length \(length) of \(full.count - 12) decoded \(set.records.count) records")
            }
        }
    }

    /// CPU-bound for seconds in a debug build: the loop runs on a thread of its own, so the
    /// parameterized cases do not hold every Swift concurrency thread (they did, about 55 s, and
    /// every other test running beside them stood still). Longer runs: `Tools/fuzz.sh`.
    @Test(arguments: [KafkaCompressionCodec.none, .gzip, .snappy, .lz4, .zstd])
    func randomMutationsGiveRecordsOrATypedError(_ codec: KafkaCompressionCodec) async throws {
        let problems = try await offThePool { try Self.mutate(codec, rounds: 600) }
        for problem in problems { Issue.record(Comment(rawValue: problem)) }
    }

    /// Mutates a batch `rounds` times; returns what went wrong (recorded by the test's task).
    private static func mutate(_ codec: KafkaCompressionCodec, rounds: Int) throws -> [String] {
        var problems: [String] = []
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = SeededRandom(seed: seed)
        let records = KafkaRecordBatchRoundTripTests.sampleRecords(count: 12, seed: seed)
        let original = try KafkaRecordBatchEncoder(compression: codec).encode(records)
        var lenient = KafkaRecordBatchDecoder(maxDecompressedBatchBytes: 1 << 20)
        lenient.verifiesCRC = false
        for _ in 0..<rounds {
            var bytes = original
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let index = Int(random.next() % UInt64(bytes.count))
                bytes[index] = UInt8(truncatingIfNeeded: random.next())
            }
            if random.next() % 4 == 0 { bytes.removeLast(Int(random.next() % UInt64(bytes.count))) }
            // With CRC checks on, any change in the covered range must be caught.
            if case .success(let set) = decodeResult(bytes), !set.batches.isEmpty, bytes.count == original.count, bytes[21...] != original[21...] {
                problems.append("seed \(seed): a mutated batch passed its CRC (\(set.records.count) records)")
            }
            // Without them, the parser itself sees the damage: records or a typed error.
            _ = decodeResult(bytes, decoder: lenient)
        }
        return problems
    }
}

@Suite("KafkaRecordBatch control batches")
struct KafkaRecordBatchControlTests {
    static func controlBatch(offset: Int64, marker type: UInt8, producerID: Int64) throws -> [UInt8] {
        var encoder = KafkaRecordBatchEncoder()
        encoder.isControl = true
        encoder.isTransactional = true
        encoder.producerID = producerID
        encoder.producerEpoch = 0
        // Control record (KIP-98): key = version int16 0, type int16; value = version int16 0,
        // coordinator epoch int32.
        return try encoder.encode([KafkaRecord(offset: offset, timestamp: 0, key: [0, 0, 0, type], value: [0, 0, 0, 0, 0, 5])])
    }

    @Test func controlBatchesAreSkippedButVisible() throws {
        var transactional = KafkaRecordBatchEncoder()
        transactional.isTransactional = true
        transactional.producerID = 77
        transactional.producerEpoch = 0
        transactional.baseSequence = 0
        var blob = try transactional.encode([
            KafkaRecord(offset: 0, timestamp: 1, key: nil, value: [1]),
            KafkaRecord(offset: 1, timestamp: 2, key: nil, value: [2]),
        ])
        blob += try Self.controlBatch(offset: 2, marker: 0, producerID: 77)
        blob += try KafkaRecordBatchEncoder().encode([KafkaRecord(offset: 3, timestamp: 3, key: nil, value: [3])])
        blob += try Self.controlBatch(offset: 4, marker: 1, producerID: 78)

        let set = try KafkaRecordBatchDecoder().decode(blob)
        #expect(set.batches.count == 4)
        #expect(set.records.map(\.offset) == [0, 1, 3])
        #expect(set.batches[0].isTransactional)
        #expect(set.batches[0].producerID == 77)
        #expect(set.batches[0].controlMarker == nil)
        #expect(set.batches[1].isControl)
        #expect(set.batches[1].records.isEmpty)
        #expect(set.batches[1].controlMarker == .abort)
        #expect(set.batches[1].producerID == 77)
        #expect(set.batches[3].controlMarker == .commit)
        #expect(set.nextOffset == 5)

        var keeping = KafkaRecordBatchDecoder()
        keeping.keepsControlRecords = true
        let kept = try keeping.decode(blob)
        #expect(kept.batches[1].records.first?.key == [0, 0, 0, 0])
        #expect(kept.records.map(\.offset) == [0, 1, 3], "control records never count as data")
    }

    /// Compaction keeps emptied batches (count 0) to preserve producer state; they carry no
    /// records but still move the fetch offset past `lastOffsetDelta`.
    @Test(arguments: [false, true])
    func emptyBatchesAdvanceTheOffset(control: Bool) throws {
        var bytes = control
            ? try Self.controlBatch(offset: 40, marker: 1, producerID: 9)
            : try KafkaRecordBatchEncoder().encode([KafkaRecord(offset: 40, timestamp: 0, value: [1])])
        bytes.removeSubrange(61...)
        bytes.replaceSubrange(8..<12, with: [0, 0, 0, 49])
        bytes.replaceSubrange(23..<27, with: [0, 0, 0, 3])  // lastOffsetDelta 3
        bytes.replaceSubrange(57..<61, with: [0, 0, 0, 0])  // records count 0
        patchCRC32C(&bytes)
        let set = try KafkaRecordBatchDecoder().decode(bytes)
        #expect(set.batches.count == 1)
        #expect(set.batches[0].isControl == control)
        #expect(set.batches[0].controlMarker == nil)
        #expect(set.records.isEmpty)
        #expect(set.nextOffset == 44)
    }

    @Test func controlBatchWithoutAMarkerKeyIsAnError() throws {
        var encoder = KafkaRecordBatchEncoder()
        encoder.isControl = true
        let bytes = try encoder.encode([KafkaRecord(offset: 0, timestamp: 0, key: [0], value: nil)])
        guard case .failure(let error) = decodeResult(bytes) else {
            Issue.record("a control record with a 1-byte key decoded")
            return
        }
        #expect(error.code == .malformed)
    }
}
