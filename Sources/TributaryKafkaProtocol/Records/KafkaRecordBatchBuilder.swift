import TributaryCompression
import TributaryWire

/// Builds one magic 2 record batch a record at a time, as a producer's per-partition
/// accumulator does: each appended record is encoded into the records section at once, so the
/// builder holds bytes, not record values.
///
/// Offsets are deltas from the batch's base offset (0 for a produce request; the broker assigns
/// the real ones). ``build()`` compresses the section, writes the 61-byte header and the CRC-32C.
public struct KafkaRecordBatchBuilder: Sendable {
    /// Batch-level settings; see ``KafkaRecordBatchEncoder`` for their meaning.
    public var settings: KafkaRecordBatchEncoder
    /// The base offset written in the header. Default 0.
    public var baseOffset: Int64
    private(set) var section: ByteWriter
    /// How many records the batch holds.
    public private(set) var count = 0
    /// The first record's timestamp, the base of every timestamp delta.
    public private(set) var baseTimestamp: Int64 = 0
    private var maxTimestamp = Int64.min
    private var lastOffsetDelta: Int32 = -1

    /// Creates an empty batch.
    public init(settings: KafkaRecordBatchEncoder = KafkaRecordBatchEncoder(), baseOffset: Int64 = 0, capacity: Int = 0) {
        self.settings = settings
        self.baseOffset = baseOffset
        self.section = ByteWriter(capacity: capacity)
    }

    /// The uncompressed size of the batch so far: header plus records section.
    public var uncompressedSize: Int { KafkaRecordBatch.headerSize + section.count }

    /// Whether no record was appended.
    public var isEmpty: Bool { count == 0 }

    /// The size `append` would add for a record, so that a caller can decide to start a new batch
    /// first. An estimate within a few bytes (the length prefix and deltas are bounded).
    public static func estimatedSize(keyCount: Int?, valueCount: Int?, headers: [KafkaRecord.Header]) -> Int {
        var size = 5 + 1 + 10 + 5 + 5 + (keyCount ?? 0) + 5 + (valueCount ?? 0) + 5
        for header in headers {
            size += 10 + header.key.utf8.count + (header.value?.count ?? 0)
        }
        return size
    }

    /// Appends one record.
    ///
    /// - Parameters:
    ///   - offsetDelta: the record's offset minus the base offset; nil for the next one (one more
    ///     than the last). Must increase.
    /// - Throws: ``KafkaRecordError`` with code `invalidRecords` when a delta does not fit its
    ///   field or does not increase, or a field is longer than 2 GiB. Nothing is appended then.
    public mutating func append(timestamp: Int64, key: [UInt8]?, value: [UInt8]?, headers: [KafkaRecord.Header] = [], offsetDelta: Int32? = nil) throws(KafkaRecordError) {
        let index = count
        let delta = offsetDelta ?? (lastOffsetDelta &+ 1)
        guard delta > lastOffsetDelta else {
            throw .invalidInput("record offsets that increase", found: "offset delta \(delta) after \(lastOffsetDelta) at index \(index)")
        }
        let base = count == 0 ? timestamp : baseTimestamp
        let (timestampDelta, overflow) = timestamp.subtractingReportingOverflow(base)
        guard !overflow else {
            throw .invalidInput("a timestamp delta within int64", found: "timestamp \(timestamp) with base \(base)")
        }
        guard let headerCount = Int32(exactly: headers.count) else {
            throw .invalidInput("a header count within int32", found: "\(headers.count) headers at index \(index)")
        }
        // The record's length comes first, so it is computed, then every field is written
        // straight into the section (no intermediate buffer).
        var length = 1 + Self.varlongSize(timestampDelta) + Self.varintSize(delta) + Self.varintSize(headerCount)
        length += try Self.fieldSize(key?.count, "key", index: index)
        length += try Self.fieldSize(value?.count, "value", index: index)
        for header in headers {
            length += try Self.fieldSize(header.key.utf8.count, "header key", index: index)
            length += try Self.fieldSize(header.value?.count, "header value", index: index)
        }
        guard let recordLength = Int32(exactly: length) else {
            throw .invalidInput("a record of at most 2 GiB", found: "\(length) bytes at index \(index)")
        }
        // The fields up to the key's length (and, without a key, the value's length) are put
        // together on the stack and appended at once: appending them byte by byte checks the
        // array's capacity and uniqueness for every byte.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1 + 5 * ByteWriter.maxVarlongSize) { scratch in
            var used = 0
            ByteWriter.putVarlong(Int64(recordLength), into: scratch, at: &used)
            scratch[used] = 0  // attributes
            used += 1
            ByteWriter.putVarlong(timestampDelta, into: scratch, at: &used)
            ByteWriter.putVarlong(Int64(delta), into: scratch, at: &used)
            ByteWriter.putVarlong(Int64(key?.count ?? -1), into: scratch, at: &used)
            if key == nil { ByteWriter.putVarlong(Int64(value?.count ?? -1), into: scratch, at: &used) }
            section.writeRawBytes(UnsafeBufferPointer(rebasing: scratch[..<used]))
        }
        if let key {
            section.writeRawBytes(key)
            Self.writeField(value, into: &section)
        } else if let value {
            section.writeRawBytes(value)
        }
        section.writeVarint(headerCount)
        for header in headers {
            section.writeVarint(Int32(header.key.utf8.count))
            section.writeRawBytes(header.key.utf8)
            Self.writeField(header.value, into: &section)
        }
        if count == 0 { baseTimestamp = timestamp }
        maxTimestamp = max(maxTimestamp, timestamp)
        lastOffsetDelta = delta
        count += 1
    }

    /// Returns the complete batch: header, (compressed) records section, CRC-32C.
    ///
    /// - Throws: ``KafkaRecordError`` with code `invalidRecords` for an empty batch and
    ///   `compressionFailed` when the codec fails.
    public func build() throws(KafkaRecordError) -> [UInt8] {
        guard count > 0, let recordCount = Int32(exactly: count) else {
            throw .invalidInput("at least one record", found: "no records")
        }
        let compression = settings.compression
        var payload: [UInt8] = []
        if compression != .none {
            do throws(CompressionError) {
                let codec = try Compression.codec(for: compression)
                try section.bytes.withBytes { (raw) throws(CompressionError) in
                    try codec.compress(raw, into: &payload)
                }
            } catch {
                throw KafkaRecordError(code: .compressionFailed, expected: "\(compression) compression of \(section.count) bytes", found: error.description, baseOffset: baseOffset, compressionError: error)
            }
        }
        let payloadCount = compression == .none ? section.count : payload.count
        guard let batchLength = Int32(exactly: KafkaRecordBatch.headerSize - KafkaRecordBatch.logOverhead + payloadCount) else {
            throw .invalidInput("a batch of at most 2 GiB", found: "\(payloadCount) bytes of records")
        }
        var writer = ByteWriter(capacity: KafkaRecordBatch.headerSize + payloadCount)
        writer.writeInt64(baseOffset)
        writer.writeInt32(batchLength)
        writer.writeInt32(settings.partitionLeaderEpoch)
        writer.writeInt8(2)
        writer.writeUInt32(0)  // CRC, patched below
        let attributes = KafkaRecordBatch.Attributes(compression: compression, timestampType: settings.timestampType, isTransactional: settings.isTransactional, isControl: settings.isControl)
        writer.writeInt16(attributes.rawValue)
        writer.writeInt32(lastOffsetDelta)
        writer.writeInt64(baseTimestamp)
        writer.writeInt64(maxTimestamp)
        writer.writeInt64(settings.producerID)
        writer.writeInt16(settings.producerEpoch)
        writer.writeInt32(settings.baseSequence)
        writer.writeInt32(recordCount)
        if compression == .none {
            writer.writeRawBytes(section.bytes)
        } else {
            writer.writeRawBytes(payload)
        }
        // The CRC is patched in the writer's own buffer: a copy taken out of the writer first
        // would be shared with it, and the first patched byte would copy the whole batch.
        let crc = writer.bytes.withUnsafeBufferPointer { CRC32C.checksum(UnsafeBufferPointer(rebasing: $0[KafkaRecordBatch.attributesOffset...])) }
        writer.bytes[17] = UInt8(truncatingIfNeeded: crc >> 24)
        writer.bytes[18] = UInt8(truncatingIfNeeded: crc >> 16)
        writer.bytes[19] = UInt8(truncatingIfNeeded: crc >> 8)
        writer.bytes[20] = UInt8(truncatingIfNeeded: crc)
        return writer.bytes
    }

    /// Bytes of a varint-length-prefixed field (-1 for null); checks the length fits.
    private static func fieldSize(_ count: Int?, _ field: String, index: Int) throws(KafkaRecordError) -> Int {
        guard let count else { return 1 }
        guard let length = Int32(exactly: count) else {
            throw .invalidInput("a \(field) of at most 2 GiB", found: "\(count) bytes at record index \(index)")
        }
        return varintSize(length) + count
    }

    private static func writeField(_ value: [UInt8]?, into writer: inout ByteWriter) {
        guard let value else {
            writer.writeVarint(-1)
            return
        }
        writer.writeVarint(Int32(truncatingIfNeeded: value.count))
        writer.writeRawBytes(value)
    }

    /// The length of `value` as a zigzag varint.
    static func varintSize(_ value: Int32) -> Int {
        var zigzag = UInt32(bitPattern: (value << 1) ^ (value >> 31))
        var size = 1
        while zigzag >= 0x80 {
            zigzag >>= 7
            size += 1
        }
        return size
    }

    /// The length of `value` as a zigzag varlong.
    static func varlongSize(_ value: Int64) -> Int {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        var size = 1
        while zigzag >= 0x80 {
            zigzag >>= 7
            size += 1
        }
        return size
    }
}
