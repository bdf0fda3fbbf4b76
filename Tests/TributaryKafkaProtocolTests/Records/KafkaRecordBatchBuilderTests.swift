import Testing
import TributaryCompression
import TributaryKafkaProtocol

@Suite("Record batch builder")
struct KafkaRecordBatchBuilderTests {
    private static let records: [KafkaRecord] = (0..<50).map { index in
        KafkaRecord(offset: Int64(index), timestamp: 1_700_000_000_000 + Int64(index * 3), key: index % 4 == 0 ? nil : Array("k\(index)".utf8),
                    value: index % 7 == 0 ? nil : Array(repeating: UInt8(index), count: index * 5), headers: index % 2 == 0 ? [("h", [UInt8(index)]), ("n", nil)] : [])
    }

    @Test(arguments: KafkaCompressionCodec.allCases)
    func buildsWhatTheEncoderBuildsAndDecodesBack(codec: KafkaCompressionCodec) throws {
        var builder = KafkaRecordBatchBuilder(settings: KafkaRecordBatchEncoder(compression: codec))
        for record in Self.records {
            try builder.append(timestamp: record.timestamp, key: record.key, value: record.value, headers: record.headers)
        }
        #expect(builder.count == Self.records.count)
        let bytes = try builder.build()
        #expect(bytes == (try KafkaRecordBatchEncoder(compression: codec).encode(Self.records)))
        let decoded = try KafkaRecordBatchDecoder().decode(bytes)
        #expect(decoded.records == Self.records)
        #expect(decoded.batches.first?.attributes.compression == codec)
    }

    @Test func emptyBatchCannotBeBuilt() {
        let builder = KafkaRecordBatchBuilder()
        let error = #expect(throws: KafkaRecordError.self) { _ = try builder.build() }
        #expect(error?.code == .invalidRecords)
    }

    @Test func offsetDeltasMustIncrease() throws {
        var builder = KafkaRecordBatchBuilder()
        try builder.append(timestamp: 1, key: nil, value: [1], offsetDelta: 3)
        let error = #expect(throws: KafkaRecordError.self) { try builder.append(timestamp: 1, key: nil, value: [2], offsetDelta: 3) }
        #expect(error?.code == .invalidRecords)
        #expect(builder.count == 1)
    }

    @Test func estimateCoversTheEncodedSize() throws {
        var builder = KafkaRecordBatchBuilder()
        var estimated = KafkaRecordBatch.headerSize
        for record in Self.records {
            estimated += KafkaRecordBatchBuilder.estimatedSize(keyCount: record.key?.count, valueCount: record.value?.count, headers: record.headers)
            try builder.append(timestamp: record.timestamp, key: record.key, value: record.value, headers: record.headers)
        }
        #expect(builder.uncompressedSize <= estimated)
    }
}

@Suite("Next offset from batch headers")
struct KafkaNextOffsetScanTests {
    @Test func scansCompleteBatchesOnly() throws {
        let first = try KafkaRecordBatchEncoder().encode((0..<3).map { KafkaRecord(offset: 10 + Int64($0), timestamp: 1, value: [1]) })
        let second = try KafkaRecordBatchEncoder(compression: .lz4).encode((0..<5).map { KafkaRecord(offset: 13 + Int64($0), timestamp: 1, value: [2]) })
        #expect(KafkaRecordBatchDecoder.nextOffset(afterBatchesIn: first) == 13)
        #expect(KafkaRecordBatchDecoder.nextOffset(afterBatchesIn: first + second) == 18)
        // A truncated trailing batch (as a fetch at max_bytes returns) does not count.
        #expect(KafkaRecordBatchDecoder.nextOffset(afterBatchesIn: first + second.dropLast(3)) == 13)
        #expect(KafkaRecordBatchDecoder.nextOffset(afterBatchesIn: Array(first.prefix(20))) == nil)
        #expect(KafkaRecordBatchDecoder.nextOffset(afterBatchesIn: []) == nil)
        // It agrees with a full decode.
        #expect(try KafkaRecordBatchDecoder().decode(first + second).nextOffset == 18)
    }

    @Test func hostileLengthsStopTheScan() {
        var bytes = [UInt8](repeating: 0, count: 40)
        bytes[8] = 0x7F  // length 2 GiB
        #expect(KafkaRecordBatchDecoder.nextOffset(afterBatchesIn: bytes) == nil)
        bytes[8] = 0xFF  // negative length
        #expect(KafkaRecordBatchDecoder.nextOffset(afterBatchesIn: bytes) == nil)
    }
}
