import TributaryCompression
import TributaryWire

/// Builds magic 2 record batches from records, for the `records` field of a Produce request.
///
/// Each record is written as length (varint), attributes (0), timestamp delta (varlong), offset
/// delta (varint), key and value (varint length, -1 for null), and headers (varint count, then
/// varint key length, key, varint value length or -1, value). The records section is compressed
/// with ``compression``, and the CRC-32C of attributes..end is patched into the header.
///
/// The base offset and base timestamp are the first record's; deltas are relative to them.
/// Defaults describe a plain, non-idempotent producer: ``producerID``, ``producerEpoch`` and
/// ``baseSequence`` are -1.
public struct KafkaRecordBatchEncoder: Sendable {
    /// The codec for the records section, like Kafka's `compression.type`. Default `.none`.
    public var compression: KafkaCompressionCodec
    /// The timestamp type written in the attributes. Default `.createTime` (producers never
    /// write `LogAppendTime`; brokers do).
    public var timestampType: KafkaTimestampType = .createTime
    /// The idempotent producer id, or -1 (the default) for a non-idempotent producer.
    public var producerID: Int64 = -1
    /// The producer epoch, or -1 (the default).
    public var producerEpoch: Int16 = -1
    /// The sequence number of the first record, or -1 (the default).
    public var baseSequence: Int32 = -1
    /// Whether the batch is part of a transaction (attributes bit 4). Default false.
    public var isTransactional = false
    /// Whether the batch is a control batch (attributes bit 5). Default false; only brokers and
    /// tests write control batches.
    public var isControl = false
    /// The partition leader epoch field. Default -1 (the broker fills it in).
    public var partitionLeaderEpoch: Int32 = -1

    /// Creates an encoder; every other setting starts at its documented default.
    public init(compression: KafkaCompressionCodec = .none) {
        self.compression = compression
    }

    /// Appends one batch holding `records` to `buffer`.
    ///
    /// - Throws: ``KafkaRecordError`` with code `invalidRecords` when `records` is empty, offsets
    ///   do not increase, a delta does not fit its field or a header key is not valid, and
    ///   `compressionFailed` when the codec fails. Nothing is appended when it throws.
    public func encode(_ records: [KafkaRecord], into buffer: inout [UInt8]) throws(KafkaRecordError) {
        guard let first = records.first else {
            throw .invalidInput("at least one record", found: "no records")
        }
        let baseOffset = first.offset
        let baseTimestamp = first.timestamp
        var maxTimestamp = Int64.min
        var previousOffset: Int64?
        var section = ByteWriter()
        var recordBytes = ByteWriter()
        for (index, record) in records.enumerated() {
            if let previousOffset, record.offset <= previousOffset {
                throw .invalidInput("record offsets that increase", found: "offset \(record.offset) after \(previousOffset) at index \(index)")
            }
            previousOffset = record.offset
            let (offsetDelta, overflow) = record.offset.subtractingReportingOverflow(baseOffset)
            guard !overflow, let delta = Int32(exactly: offsetDelta) else {
                throw .invalidInput("an offset delta within int32", found: "offset \(record.offset) with base \(baseOffset)")
            }
            let (timestampDelta, timestampOverflow) = record.timestamp.subtractingReportingOverflow(baseTimestamp)
            guard !timestampOverflow else {
                throw .invalidInput("a timestamp delta within int64", found: "timestamp \(record.timestamp) with base \(baseTimestamp)")
            }
            maxTimestamp = max(maxTimestamp, record.timestamp)

            recordBytes.truncate(to: 0)
            recordBytes.writeInt8(0)
            recordBytes.writeVarlong(timestampDelta)
            recordBytes.writeVarint(delta)
            try Self.writeVarintBytes(record.key, "key", index: index, into: &recordBytes)
            try Self.writeVarintBytes(record.value, "value", index: index, into: &recordBytes)
            guard let headerCount = Int32(exactly: record.headers.count) else {
                throw .invalidInput("a header count within int32", found: "\(record.headers.count) headers at index \(index)")
            }
            recordBytes.writeVarint(headerCount)
            for header in record.headers {
                try Self.writeVarintBytes(Array(header.key.utf8), "header key", index: index, into: &recordBytes)
                try Self.writeVarintBytes(header.value, "header value", index: index, into: &recordBytes)
            }
            guard let length = Int32(exactly: recordBytes.count) else {
                throw .invalidInput("a record of at most 2 GiB", found: "\(recordBytes.count) bytes at index \(index)")
            }
            section.writeVarint(length)
            section.writeRawBytes(recordBytes.bytes)
        }
        guard let lastOffsetDelta = Int32(exactly: records[records.count - 1].offset &- baseOffset),
              let recordCount = Int32(exactly: records.count)
        else {
            throw .invalidInput("at most \(Int32.max) records", found: "\(records.count) records")
        }

        var payload: [UInt8]
        if compression == .none {
            payload = section.bytes
        } else {
            payload = []
            do throws(CompressionError) {
                let codec = try Compression.codec(for: compression)
                try section.bytes.withBytes { (raw) throws(CompressionError) in
                    try codec.compress(raw, into: &payload)
                }
            } catch {
                throw KafkaRecordError(code: .compressionFailed, expected: "\(compression) compression of \(section.count) bytes", found: error.description, baseOffset: baseOffset, compressionError: error)
            }
        }
        guard let batchLength = Int32(exactly: KafkaRecordBatch.headerSize - KafkaRecordBatch.logOverhead + payload.count) else {
            throw .invalidInput("a batch of at most 2 GiB", found: "\(payload.count) bytes of records")
        }

        var writer = ByteWriter(capacity: KafkaRecordBatch.headerSize + payload.count)
        writer.writeInt64(baseOffset)
        writer.writeInt32(batchLength)
        writer.writeInt32(partitionLeaderEpoch)
        writer.writeInt8(2)
        writer.writeUInt32(0)  // CRC, patched below
        let attributes = KafkaRecordBatch.Attributes(compression: compression, timestampType: timestampType, isTransactional: isTransactional, isControl: isControl)
        writer.writeInt16(attributes.rawValue)
        writer.writeInt32(lastOffsetDelta)
        writer.writeInt64(baseTimestamp)
        writer.writeInt64(maxTimestamp)
        writer.writeInt64(producerID)
        writer.writeInt16(producerEpoch)
        writer.writeInt32(baseSequence)
        writer.writeInt32(recordCount)
        writer.writeRawBytes(payload)
        var bytes = writer.bytes
        let crc = CRC32C.checksum(bytes[KafkaRecordBatch.attributesOffset...])
        bytes[17] = UInt8(truncatingIfNeeded: crc >> 24)
        bytes[18] = UInt8(truncatingIfNeeded: crc >> 16)
        bytes[19] = UInt8(truncatingIfNeeded: crc >> 8)
        bytes[20] = UInt8(truncatingIfNeeded: crc)
        buffer.append(contentsOf: bytes)
    }

    /// Returns one batch holding `records`; see ``encode(_:into:)``.
    public func encode(_ records: [KafkaRecord]) throws(KafkaRecordError) -> [UInt8] {
        var buffer: [UInt8] = []
        try encode(records, into: &buffer)
        return buffer
    }

    private static func writeVarintBytes(_ value: [UInt8]?, _ field: String, index: Int, into writer: inout ByteWriter) throws(KafkaRecordError) {
        guard let value else {
            writer.writeVarint(-1)
            return
        }
        guard let length = Int32(exactly: value.count) else {
            throw .invalidInput("a \(field) of at most 2 GiB", found: "\(value.count) bytes at record index \(index)")
        }
        writer.writeVarint(length)
        writer.writeRawBytes(value)
    }
}
