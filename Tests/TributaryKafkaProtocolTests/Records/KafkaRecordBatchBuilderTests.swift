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
