import Testing
import TributaryCompression
import TributaryKafkaProtocol
import TributaryTestSupport
import TributaryWire

/// The batch-by-batch, record-by-record reader, and the offset checks it applies (so
/// `decode`, which goes through it, applies them too).
@Suite("KafkaRecordBatchReader")
struct KafkaRecordBatchReaderTests {
    /// Everything `reader` yields, batch headers with their records filled in.
    static func readAll(_ bytes: [UInt8], decoder: KafkaRecordBatchDecoder = KafkaRecordBatchDecoder()) throws(KafkaRecordError) -> [KafkaRecordBatch] {
        var reader = KafkaRecordBatchReader(bytes, decoder: decoder)
        var batches: [KafkaRecordBatch] = []
        while var batch = try reader.nextBatch() {
            #expect(batch.records.isEmpty)
            while let record = try reader.nextRecord() { batch.records.append(record) }
            batches.append(batch)
        }
        return batches
    }

    @Test func yieldsWhatDecodeYieldsForEveryCodec() throws {
        var blob: [UInt8] = []
        for (index, codec) in KafkaCompressionCodec.allCases.enumerated() {
            let records = KafkaRecordBatchRoundTripTests.sampleRecords(count: 20, seed: UInt64(index)).map {
                KafkaRecord(offset: $0.offset + Int64(index * 20), timestamp: $0.timestamp, key: $0.key, value: $0.value, headers: $0.headers)
            }
            try KafkaRecordBatchEncoder(compression: codec).encode(records, into: &blob)
        }
        blob += hexBytes(goldenBatchHex).prefix(30)   // a partial batch at the end
        let decoded = try KafkaRecordBatchDecoder().decode(blob)
        #expect(try Self.readAll(blob) == decoded.batches)
        #expect(decoded.truncatedByteCount == 30)
    }

    @Test func holdsOneDecompressedBatchAtATimeAndSkipsUnreadRecords() throws {
        var blob: [UInt8] = []
        let first = (0..<100).map { KafkaRecord(offset: Int64($0), timestamp: 1, value: Array(repeating: 0x41, count: 1000)) }
        let second = [KafkaRecord(offset: 100, timestamp: 2, value: [1])]
        try KafkaRecordBatchEncoder(compression: .gzip).encode(first, into: &blob)
        try KafkaRecordBatchEncoder(compression: .none).encode(second, into: &blob)
        var reader = KafkaRecordBatchReader(blob)
        #expect(try reader.nextBatch()?.recordCount == 100)
        #expect(reader.decompressedByteCount > 100_000)
        #expect(try reader.nextRecord()?.offset == 0)
        #expect(try reader.nextRecord()?.offset == 1)
        // The other 98 are skipped; the uncompressed batch holds no decompressed copy.
        #expect(try reader.nextBatch()?.baseOffset == 100)
        #expect(reader.decompressedByteCount == 0)
        #expect(try reader.nextRecord() == second[0])
        #expect(try reader.nextRecord() == nil)
        #expect(try reader.nextBatch() == nil)
        #expect(reader.truncatedByteCount == 0)
    }

    @Test func expectedRemainingRecordsCountsTheBatchLeftAndBoundsTheRest() throws {
        var blob: [UInt8] = []
        let first = (0..<5).map { KafkaRecord(offset: Int64($0), timestamp: 1, value: [UInt8](repeating: 7, count: 40)) }
        let second = (5..<8).map { KafkaRecord(offset: Int64($0), timestamp: 1, value: [UInt8](repeating: 7, count: 40)) }
        try KafkaRecordBatchEncoder(compression: .none).encode(first, into: &blob)
        let firstSize = blob.count
        try KafkaRecordBatchEncoder(compression: .none).encode(second, into: &blob)
        var reader = KafkaRecordBatchReader(blob)
        #expect(reader.expectedRemainingRecords == blob.count / 16, "before the first batch: a bound from the bytes")
        _ = try reader.nextBatch()
        let after = (blob.count - firstSize) / 16
        #expect(reader.expectedRemainingRecords == 5 + after)
        _ = try reader.nextRecord()
        _ = try reader.nextRecord()
        #expect(reader.expectedRemainingRecords == 3 + after)
        _ = try reader.nextBatch()
        #expect(reader.expectedRemainingRecords == 3)
        while try reader.nextRecord() != nil {}
        #expect(reader.expectedRemainingRecords == 0)
        // The bound never falls below what is really left.
        #expect(after >= second.count)
    }

    /// The golden batch (base offset 5, last delta 1, records at deltas 0 and 1) with record 1's
    /// offset delta (zigzag varint at byte 74) replaced.
    static func goldenWithSecondDelta(_ zigzag: UInt8) -> [UInt8] {
        var bytes = hexBytes(goldenBatchHex)
        #expect(bytes[74] == 0x02)
        bytes[74] = zigzag
        patchCRC32C(&bytes)
        return bytes
    }

    @Test func aRepeatedOffsetDeltaIsMalformed() {
        guard case .failure(let error) = decodeResult(Self.goldenWithSecondDelta(0x00)) else {
            Issue.record("two records at one offset decoded")
            return
        }
        #expect(error.code == .malformed)
        #expect(error.baseOffset == 5)
        #expect(error.offset == 71)   // where record 1 starts
        #expect(error.description.contains("offset deltas that increase strictly up to lastOffsetDelta 1"), "\(error)")
        #expect(error.description.contains("offset delta 0 after 0"), "\(error)")
    }

    @Test func aDecreasingOrNegativeOrTooLargeDeltaIsMalformed() {
        // -1 (zigzag 01) after 0, and 3 (zigzag 06) beyond lastOffsetDelta 1.
        for (zigzag, found) in [(UInt8(0x01), "offset delta -1 after 0"), (0x06, "offset delta 3 after 0")] {
            guard case .failure(let error) = decodeResult(Self.goldenWithSecondDelta(zigzag)) else {
                Issue.record("delta \(found) decoded")
                continue
            }
            #expect(error.code == .malformed)
            #expect(error.description.contains(found), "\(error)")
        }
    }

    @Test func aRecordsCountBeyondLastOffsetDeltaIsMalformed() {
        var bytes = hexBytes(goldenBatchHex)
        bytes[26] = 0   // lastOffsetDelta 0, yet 2 records
        patchCRC32C(&bytes)
        guard case .failure(let error) = decodeResult(bytes) else {
            Issue.record("2 records under a last offset delta of 0 decoded")
            return
        }
        #expect(error.code == .malformed)
        #expect(error.offset == 57)   // the records count
        #expect(error.description.contains("records count of at most lastOffsetDelta + 1 (1)"), "\(error)")
    }

    @Test func aCompactedBatchWithGapsDecodes() throws {
        // Compaction keeps the header's last delta while removing records: deltas 0 and 5 of 0...9.
        let records = [KafkaRecord(offset: 10, timestamp: 1, value: [1]), KafkaRecord(offset: 15, timestamp: 1, value: [2])]
        var bytes = try KafkaRecordBatchEncoder().encode(records)
        bytes.replaceSubrange(23..<27, with: [0, 0, 0, 9])
        patchCRC32C(&bytes)
        let set = try KafkaRecordBatchDecoder().decode(bytes)
        #expect(set.records.map(\.offset) == [10, 15])
        #expect(set.nextOffset == 20)
    }
}
