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
        guard Int32(exactly: records.count) != nil else {
            throw .invalidInput("at most \(Int32.max) records", found: "\(records.count) records")
        }
        let baseOffset = first.offset
        var builder = KafkaRecordBatchBuilder(settings: self, baseOffset: baseOffset)
        for (index, record) in records.enumerated() {
            let (offsetDelta, overflow) = record.offset.subtractingReportingOverflow(baseOffset)
            guard !overflow, let delta = Int32(exactly: offsetDelta) else {
                throw .invalidInput("an offset delta within int32", found: "offset \(record.offset) with base \(baseOffset) at index \(index)")
            }
            try builder.append(timestamp: record.timestamp, key: record.key, value: record.value, headers: record.headers, offsetDelta: delta)
        }
        buffer.append(contentsOf: try builder.build())
    }

    /// Returns one batch holding `records`; see ``encode(_:into:)``.
    public func encode(_ records: [KafkaRecord]) throws(KafkaRecordError) -> [UInt8] {
        var buffer: [UInt8] = []
        try encode(records, into: &buffer)
        return buffer
    }
}
