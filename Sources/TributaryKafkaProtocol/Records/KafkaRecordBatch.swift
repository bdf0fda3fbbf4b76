import TributaryCompression

/// How the timestamps of a batch were assigned (attributes bit 3).
public enum KafkaTimestampType: Sendable, Hashable, CustomStringConvertible {
    /// The producer set each record's timestamp (`message.timestamp.type=CreateTime`).
    case createTime
    /// The broker set the batch's max timestamp when appending (`LogAppendTime`); every record
    /// in the batch takes that timestamp.
    case logAppendTime

    /// `CreateTime` or `LogAppendTime`, as Kafka names them.
    public var description: String { self == .createTime ? "CreateTime" : "LogAppendTime" }
}

/// What a control batch marks (the type in its control record's key, KIP-98).
public enum KafkaControlMarker: Sendable, Hashable {
    /// The producer's transaction was aborted: drop its earlier records under `read_committed`.
    case abort
    /// The producer's transaction was committed.
    case commit
    /// A control type this library does not know (Kafka adds new ones, such as KIP-890's).
    case other(Int16)
}

/// A decoded record batch (magic 2), or one legacy message (magic 0 or 1) presented as a batch.
///
/// Layout (magic 2), from the Kafka protocol guide: baseOffset int64, batchLength int32,
/// partitionLeaderEpoch int32, magic int8, crc uint32 (CRC-32C of attributes..end), attributes
/// int16, lastOffsetDelta int32, baseTimestamp int64, maxTimestamp int64, producerId int64,
/// producerEpoch int16, baseSequence int32, records count int32, records.
///
/// Legacy messages fill the fields Kafka's own up-conversion would: producer fields -1,
/// `partitionLeaderEpoch` -1, `crc` the message's CRC-32.
public struct KafkaRecordBatch: Sendable, Equatable {
    /// The batch attributes: compression, timestamp type, transactional and control flags.
    public struct Attributes: Sendable, Hashable {
        /// The raw int16 (for legacy messages, the int8 attribute widened).
        public var rawValue: Int16

        /// Creates attributes from their wire value.
        public init(rawValue: Int16) { self.rawValue = rawValue }

        /// Creates attributes from their parts.
        public init(compression: KafkaCompressionCodec, timestampType: KafkaTimestampType = .createTime, isTransactional: Bool = false, isControl: Bool = false) {
            var raw = Int16(compression.rawValue)
            if timestampType == .logAppendTime { raw |= 1 << 3 }
            if isTransactional { raw |= 1 << 4 }
            if isControl { raw |= 1 << 5 }
            rawValue = raw
        }

        /// The compression codec id in bits 0-2.
        public var compressionID: Int8 { Int8(rawValue & 0x07) }
        /// The compression codec in bits 0-2, or nil for an id this library does not know.
        public var compression: KafkaCompressionCodec? { KafkaCompressionCodec(rawValue: compressionID) }
        /// The timestamp type in bit 3.
        public var timestampType: KafkaTimestampType { rawValue & (1 << 3) != 0 ? .logAppendTime : .createTime }
        /// Whether the batch belongs to a transaction (bit 4).
        public var isTransactional: Bool { rawValue & (1 << 4) != 0 }
        /// Whether the batch holds a control record (bit 5), such as a transaction marker.
        public var isControl: Bool { rawValue & (1 << 5) != 0 }
    }

    /// The offset of the first record.
    public var baseOffset: Int64
    /// The byte count after the length field (for legacy messages, the message size).
    public var batchLength: Int32
    /// The leader epoch of the partition when the batch was appended; -1 when unknown.
    public var partitionLeaderEpoch: Int32
    /// The format: 2 for record batches, 0 or 1 for legacy messages.
    public var magic: Int8
    /// The stored checksum (CRC-32C for magic 2, CRC-32 for 0 and 1), already verified.
    public var crc: UInt32
    /// The attributes.
    public var attributes: Attributes
    /// The offset of the last record relative to ``baseOffset``.
    public var lastOffsetDelta: Int32
    /// The timestamp of the first record (-1 for legacy v0).
    public var baseTimestamp: Int64
    /// The largest timestamp in the batch.
    public var maxTimestamp: Int64
    /// The idempotent producer's id, or -1.
    public var producerID: Int64
    /// The idempotent producer's epoch, or -1.
    public var producerEpoch: Int16
    /// The sequence number of the first record, or -1.
    public var baseSequence: Int32
    /// The record count stored in the header.
    public var recordCount: Int32
    /// The records, with absolute offsets and timestamps. Empty for control batches unless the
    /// decoder was asked to keep control records.
    public var records: [KafkaRecord]
    /// For a control batch, what its control record marks.
    public var controlMarker: KafkaControlMarker?

    /// Creates a batch from its fields.
    public init(
        baseOffset: Int64, batchLength: Int32, partitionLeaderEpoch: Int32, magic: Int8, crc: UInt32,
        attributes: Attributes, lastOffsetDelta: Int32, baseTimestamp: Int64, maxTimestamp: Int64,
        producerID: Int64, producerEpoch: Int16, baseSequence: Int32, recordCount: Int32,
        records: [KafkaRecord], controlMarker: KafkaControlMarker? = nil
    ) {
        self.baseOffset = baseOffset
        self.batchLength = batchLength
        self.partitionLeaderEpoch = partitionLeaderEpoch
        self.magic = magic
        self.crc = crc
        self.attributes = attributes
        self.lastOffsetDelta = lastOffsetDelta
        self.baseTimestamp = baseTimestamp
        self.maxTimestamp = maxTimestamp
        self.producerID = producerID
        self.producerEpoch = producerEpoch
        self.baseSequence = baseSequence
        self.recordCount = recordCount
        self.records = records
        self.controlMarker = controlMarker
    }

    /// The offset of the last record the batch covered (records may have been compacted away).
    public var lastOffset: Int64 { baseOffset &+ Int64(lastOffsetDelta) }

    /// The offset to fetch next after this batch.
    public var nextOffset: Int64 { lastOffset &+ 1 }

    /// Whether this is a control batch (a transaction marker, not user data).
    public var isControl: Bool { attributes.isControl }

    /// Whether this batch was written inside a transaction; under `read_committed` a consumer
    /// drops it when a later abort marker from ``producerID`` covers it.
    public var isTransactional: Bool { attributes.isTransactional }

    /// The header size of a magic 2 batch in bytes, up to and including the records count.
    public static let headerSize = 61
    /// The offset of the magic byte from the start of a batch or legacy message.
    static let magicOffset = 16
    /// The bytes before the length-counted part: baseOffset and batchLength.
    static let logOverhead = 12
    /// The offset of the attributes (start of the CRC-32C range) in a magic 2 batch.
    static let attributesOffset = 21
}
