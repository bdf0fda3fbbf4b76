import TributaryCompression
import TributaryWire

/// The batches decoded from one partition's `records` blob in a Fetch response.
public struct KafkaRecordSet: Sendable, Equatable {
    /// Every complete batch in order, control batches included (with no records unless the
    /// decoder keeps them), so a `read_committed` consumer can match abort markers against
    /// transactional batches by producer id.
    public var batches: [KafkaRecordBatch]
    /// The bytes of a partial batch at the end of the blob that were ignored. Brokers cut the
    /// last batch at the fetch size limit; fetch again from ``nextOffset`` to get it whole. When
    /// ``batches`` is empty and this is not zero, the first batch is larger than the fetch size:
    /// raise `max_bytes` (like Kafka's `max.partition.fetch.bytes`).
    public var truncatedByteCount: Int

    /// Creates a record set.
    public init(batches: [KafkaRecordBatch] = [], truncatedByteCount: Int = 0) {
        self.batches = batches
        self.truncatedByteCount = truncatedByteCount
    }

    /// The data records of every non-control batch, in offset order.
    public var records: [KafkaRecord] {
        var result: [KafkaRecord] = []
        for batch in batches where !batch.isControl {
            result.append(contentsOf: batch.records)
        }
        return result
    }

    /// The offset after the last complete batch, or nil when there was none.
    public var nextOffset: Int64? { batches.last?.nextOffset }
}

/// Decodes the `records` blob of a Fetch response: zero or more record batches (magic 2) and
/// legacy messages (magic 0 and 1, including compressed wrapper messages).
///
/// Pure: no I/O. Every length is checked against the bytes left before it is used, decompression
/// output is bounded by ``maxDecompressedBatchBytes``, and malformed input ends in a
/// ``KafkaRecordError``, never a trap. A partial batch at the end of the blob is not an error:
/// decoding stops there and ``KafkaRecordSet/truncatedByteCount`` says how much was left.
public struct KafkaRecordBatchDecoder: Sendable {
    /// The default bound on one batch's decompressed records section: 64 MiB.
    public static let defaultMaxDecompressedBatchBytes = 64 * 1024 * 1024

    /// The most bytes one batch's records may decompress to. Default
    /// ``defaultMaxDecompressedBatchBytes`` (64 MiB); larger batches fail with
    /// `decompressionFailed`.
    public var maxDecompressedBatchBytes: Int
    /// Whether to verify each batch's CRC, like Kafka's `check.crcs`. Default true.
    public var verifiesCRC = true
    /// Whether control batches keep their control records in ``KafkaRecordBatch/records``.
    /// Default false: control batches appear with their header and ``KafkaRecordBatch/controlMarker``
    /// only, and never contribute to ``KafkaRecordSet/records``.
    public var keepsControlRecords = false

    /// Creates a decoder.
    public init(maxDecompressedBatchBytes: Int = KafkaRecordBatchDecoder.defaultMaxDecompressedBatchBytes) {
        self.maxDecompressedBatchBytes = maxDecompressedBatchBytes
    }

    /// The offset after the last complete batch in `bytes`, read from the batch headers alone
    /// (no CRC check, no decompression), or nil when `bytes` holds no complete batch. A consumer
    /// uses it to send its next fetch before decoding this one.
    public static func nextOffset(afterBatchesIn bytes: [UInt8]) -> Int64? {
        var position = 0
        var next: Int64?
        while bytes.count - position > KafkaRecordBatch.magicOffset {
            let baseOffset = int64(bytes, at: position)
            let length = Int(int32(bytes, at: position + 8))
            guard length > 0, length <= bytes.count - position - KafkaRecordBatch.logOverhead else { break }
            let magic = Int8(bitPattern: bytes[position + KafkaRecordBatch.magicOffset])
            if magic == 2 {
                guard length >= KafkaRecordBatch.headerSize - KafkaRecordBatch.logOverhead else { break }
                let lastOffsetDelta = Int64(int32(bytes, at: position + 23))
                next = baseOffset &+ lastOffsetDelta &+ 1
            } else {
                // Legacy message sets: a compressed wrapper carries its last inner offset.
                next = baseOffset &+ 1
            }
            position += KafkaRecordBatch.logOverhead + length
        }
        return next
    }

    /// Decodes every complete batch in `bytes`, each with all its records. A consumer that must
    /// bound its memory reads batch by batch and record by record with
    /// ``KafkaRecordBatchReader`` instead.
    ///
    /// - Throws: ``KafkaRecordError`` naming the batch's base offset on a CRC mismatch, an
    ///   unknown magic or codec, a decompression failure, or malformed batch contents (offset
    ///   deltas that do not increase strictly up to `lastOffsetDelta`, a records count beyond
    ///   `lastOffsetDelta + 1`).
    public func decode(_ bytes: [UInt8]) throws(KafkaRecordError) -> KafkaRecordSet {
        var set = KafkaRecordSet()
        var reader = KafkaRecordBatchReader(bytes, decoder: self)
        while var batch = try reader.nextBatch() {
            var records: [KafkaRecord] = []
            // Reserve for a bounded number only: the count is checked against the bytes, but each
            // decoded record is larger than its 7-byte minimum, so growth follows real records.
            records.reserveCapacity(min(Int(max(batch.recordCount, 0)), Self.maximumReservation))
            while let record = try reader.nextRecord() { records.append(record) }
            batch.records = records
            set.batches.append(batch)
        }
        set.truncatedByteCount = reader.truncatedByteCount
        return set
    }

    /// Where the next batch in `bytes` from `position` is, or why there is none.
    enum NextBatch {
        /// A complete batch fills `range`.
        case batch(range: Range<Int>, baseOffset: Int64, magic: Int8)
        /// The rest of the blob is a partial batch of this many bytes.
        case truncated(Int)
        /// Nothing is left.
        case end
    }

    /// Locates the batch at `position`, checking its magic and length.
    static func locateBatch(in bytes: [UInt8], at position: Int) throws(KafkaRecordError) -> NextBatch {
        guard position < bytes.count else { return .end }
        let remaining = bytes.count - position
        // Need everything up to the magic byte to know the layout.
        guard remaining > KafkaRecordBatch.magicOffset else { return .truncated(remaining) }
        let baseOffset = int64(bytes, at: position)
        let length = Int(int32(bytes, at: position + 8))
        let magic = Int8(bitPattern: bytes[position + KafkaRecordBatch.magicOffset])
        let minimum: Int
        switch magic {
        case 2: minimum = KafkaRecordBatch.headerSize - KafkaRecordBatch.logOverhead
        case 1: minimum = legacyV1MinimumSize
        case 0: minimum = legacyV0MinimumSize
        default:
            throw KafkaRecordError(
                code: .unsupportedMagic, expected: "magic 0, 1 or 2", found: "magic \(magic)",
                offset: position + KafkaRecordBatch.magicOffset,
                excerpt: excerpt(bytes, at: position + KafkaRecordBatch.magicOffset), baseOffset: baseOffset)
        }
        guard length >= minimum else {
            throw KafkaRecordError(
                code: .malformed, expected: "batch length of at least \(minimum) for magic \(magic)", found: "length \(length)",
                offset: position + 8, excerpt: excerpt(bytes, at: position + 8), baseOffset: baseOffset)
        }
        guard length <= remaining - KafkaRecordBatch.logOverhead else { return .truncated(remaining) }
        return .batch(range: position..<(position + KafkaRecordBatch.logOverhead + length), baseOffset: baseOffset, magic: magic)
    }

    /// The size of the first batch in `bytes` as its header states it (log overhead included),
    /// or nil when fewer than 12 bytes are there or the stated length is not positive. A
    /// consumer that got no complete batch compares it with the fetch size it asked for.
    public static func statedSizeOfFirstBatch(in bytes: [UInt8]) -> Int? {
        guard bytes.count >= KafkaRecordBatch.logOverhead else { return nil }
        let length = Int(int32(bytes, at: 8))
        guard length > 0 else { return nil }
        return KafkaRecordBatch.logOverhead + length
    }

    // MARK: Magic 2

    /// A magic 2 batch whose header is read and checked (CRC, codec, records count) and whose
    /// records section is decompressed, ready to be read record by record.
    struct OpenedBatch {
        /// The header; `records` is empty and `controlMarker` nil.
        var header: KafkaRecordBatch
        /// The records section (the decompressed copy for a compressed batch).
        var records: ByteReader
        var decompressed: Bool
        /// Bytes of the decompressed records section (0 for an uncompressed batch).
        var decompressedByteCount: Int
    }

    func openBatch(_ bytes: [UInt8], range: Range<Int>, baseOffset: Int64) throws(KafkaRecordError) -> OpenedBatch {
        var reader = ByteReader(bytes, range: range)
        // The range holds at least a full header (checked by the caller), so these reads succeed;
        // they still go through the bounded reader.
        let header = try Self.wire(baseOffset, decompressed: false) { () throws(WireDecodingError) in
            (baseOffset: try reader.readInt64("baseOffset"),
             batchLength: try reader.readInt32("batchLength"),
             partitionLeaderEpoch: try reader.readInt32("partitionLeaderEpoch"),
             magic: try reader.readInt8("magic"),
             crc: try reader.readUInt32("crc"))
        }
        if verifiesCRC {
            let computed = CRC32C.checksum(bytes[(range.lowerBound + KafkaRecordBatch.attributesOffset)..<range.upperBound])
            guard computed == header.crc else {
                throw KafkaRecordError(
                    code: .crcMismatch, expected: "CRC-32C \(Self.hex(computed)) of the batch", found: "stored CRC \(Self.hex(header.crc))",
                    offset: range.lowerBound + 17, excerpt: Self.excerpt(bytes, at: range.lowerBound + 17), baseOffset: baseOffset)
            }
        }
        let fields = try Self.wire(baseOffset, decompressed: false) { () throws(WireDecodingError) in
            (attributes: KafkaRecordBatch.Attributes(rawValue: try reader.readInt16("attributes")),
             lastOffsetDelta: try reader.readInt32("lastOffsetDelta"),
             baseTimestamp: try reader.readInt64("baseTimestamp"),
             maxTimestamp: try reader.readInt64("maxTimestamp"),
             producerID: try reader.readInt64("producerId"),
             producerEpoch: try reader.readInt16("producerEpoch"),
             baseSequence: try reader.readInt32("baseSequence"),
             countOffset: reader.offset,
             recordCount: try reader.readInt32("records count"))
        }
        guard let codec = fields.attributes.compression else {
            throw KafkaRecordError(
                code: .unsupportedCompression, expected: "compression codec 0-4", found: "codec \(fields.attributes.compressionID)",
                offset: range.lowerBound + KafkaRecordBatch.attributesOffset,
                excerpt: Self.excerpt(bytes, at: range.lowerBound + KafkaRecordBatch.attributesOffset), baseOffset: baseOffset)
        }
        var recordsReader: ByteReader
        let decompressed = codec != .none
        if decompressed {
            let output = try decompress(bytes[reader.offset..<range.upperBound], codec: codec, baseOffset: baseOffset, at: reader.offset)
            recordsReader = ByteReader(output)
        } else {
            recordsReader = reader
        }
        // Each record takes at least 7 bytes (length, attributes, two deltas, key and value
        // lengths, header count), so a count beyond that is impossible and allocates nothing.
        guard fields.recordCount >= 0, Int(fields.recordCount) <= recordsReader.remainingCount / Self.minimumRecordSize else {
            throw KafkaRecordError(
                code: .malformed, expected: "records count that fits \(recordsReader.remainingCount) bytes of records",
                found: "count \(fields.recordCount)", offset: fields.countOffset, excerpt: Self.excerpt(bytes, at: fields.countOffset),
                baseOffset: baseOffset)
        }
        // Offset deltas increase strictly up to lastOffsetDelta, so a batch holds at most
        // lastOffsetDelta + 1 records (fewer after compaction).
        guard fields.recordCount == 0 || Int64(fields.recordCount) <= Int64(fields.lastOffsetDelta) + 1 else {
            throw KafkaRecordError(
                code: .malformed, expected: "records count of at most lastOffsetDelta + 1 (\(Int64(fields.lastOffsetDelta) + 1))",
                found: "count \(fields.recordCount)", offset: fields.countOffset, excerpt: Self.excerpt(bytes, at: fields.countOffset),
                baseOffset: baseOffset)
        }
        let batch = KafkaRecordBatch(
            baseOffset: header.baseOffset, batchLength: header.batchLength, partitionLeaderEpoch: header.partitionLeaderEpoch,
            magic: header.magic, crc: header.crc, attributes: fields.attributes, lastOffsetDelta: fields.lastOffsetDelta,
            baseTimestamp: fields.baseTimestamp, maxTimestamp: fields.maxTimestamp, producerID: fields.producerID,
            producerEpoch: fields.producerEpoch, baseSequence: fields.baseSequence, recordCount: fields.recordCount,
            records: [], controlMarker: nil)
        return OpenedBatch(header: batch, records: recordsReader, decompressed: decompressed,
                           decompressedByteCount: decompressed ? recordsReader.remainingCount : 0)
    }

    /// Reads one record; `offset` and `timestamp` hold the deltas.
    static func readRecord(_ reader: inout ByteReader) throws(WireDecodingError) -> KafkaRecord {
        let start = reader.offset
        let length = try reader.readVarint("record length")
        guard length >= 0 else {
            throw reader.error(.invalidLength, expected: "record length", found: "length \(length)", at: start)
        }
        var record = try reader.readSubReader(count: Int(length), "record")
        _ = try record.readInt8("record attributes")
        let timestampDelta = try record.readVarlong("timestampDelta")
        let offsetDelta = try record.readVarint("offsetDelta")
        let key = try readVarintBytes(&record, "key", "key length")
        let value = try readVarintBytes(&record, "value", "value length")
        let countStart = record.offset
        let headerCount = try record.readVarint("headers count")
        // Each header takes at least 2 bytes (key length and value length).
        guard headerCount >= 0, Int(headerCount) <= record.remainingCount / 2 else {
            throw record.error(.invalidLength, expected: "headers count that fits the record", found: "count \(headerCount)", at: countStart)
        }
        var headers: [KafkaRecord.Header] = []
        headers.reserveCapacity(min(Int(headerCount), 16))
        for _ in 0..<Int(headerCount) {
            let keyStart = record.offset
            guard let keyBytes = try readVarintBytes(&record, "header key", "header key length") else {
                throw record.error(.unexpectedNull, expected: "non-null header key", found: "length -1", at: keyStart)
            }
            guard let headerKey = String(validating: keyBytes, as: UTF8.self) else {
                throw record.error(.invalidUTF8, expected: "UTF-8 header key", found: "invalid UTF-8", at: keyStart)
            }
            headers.append((key: headerKey, value: try readVarintBytes(&record, "header value", "header value length")))
        }
        // Checked here so the description is only built on failure (this runs once per record).
        if !record.isAtEnd { try record.expectEnd("record of length \(length)") }
        return KafkaRecord(offset: Int64(offsetDelta), timestamp: timestampDelta, key: key, value: value, headers: headers)
    }

    /// `lengthField` is `field + " length"`, passed as a literal so no string is built per record.
    private static func readVarintBytes(_ reader: inout ByteReader, _ field: String, _ lengthField: String) throws(WireDecodingError) -> [UInt8]? {
        let start = reader.offset
        let length = try reader.readVarint(lengthField)
        if length == -1 { return nil }
        guard length >= 0 else {
            throw reader.error(.invalidLength, expected: lengthField, found: "length \(length)", at: start)
        }
        return try reader.readRawBytes(count: Int(length), field)
    }

    /// The marker of a control batch: its record key is version int16, type int16 (KIP-98).
    static func controlMarker(_ record: KafkaRecord?, baseOffset: Int64) throws(KafkaRecordError) -> KafkaControlMarker {
        guard let key = record?.key, key.count >= 4 else {
            throw KafkaRecordError(
                code: .malformed, expected: "a control record whose key holds version and type (4 bytes)",
                found: record == nil ? "no record" : "a key of \(record?.key?.count ?? -1) bytes", baseOffset: baseOffset)
        }
        let type = Int16(bitPattern: UInt16(key[2]) << 8 | UInt16(key[3]))
        switch type {
        case 0: return .abort
        case 1: return .commit
        default: return .other(type)
        }
    }

    // MARK: Legacy messages (magic 0 and 1)

    private struct LegacyMessage {
        var offset: Int64
        var size: Int32
        var crc: UInt32
        var magic: Int8
        var attributes: Int8
        var timestamp: Int64
        var key: [UInt8]?
        var value: [UInt8]?
    }

    /// Reads and CRC-checks the message that fills `range` of `storage` exactly.
    private func readLegacyMessage(_ storage: [UInt8], range: Range<Int>, baseOffset: Int64, decompressed: Bool) throws(KafkaRecordError) -> LegacyMessage {
        var reader = ByteReader(storage, range: range)
        var message = try Self.wire(baseOffset, decompressed: decompressed) { () throws(WireDecodingError) in
            let offset = try reader.readInt64("offset")
            let size = try reader.readInt32("message size")
            let crc = try reader.readUInt32("crc")
            let magic = try reader.readInt8("magic")
            let attributes = try reader.readInt8("attributes")
            return LegacyMessage(offset: offset, size: size, crc: crc, magic: magic, attributes: attributes, timestamp: -1)
        }
        guard message.magic == 0 || message.magic == 1 else {
            throw KafkaRecordError(
                code: .unsupportedMagic, expected: "magic 0 or 1 inside a legacy message set", found: "magic \(message.magic)",
                offset: range.lowerBound + KafkaRecordBatch.magicOffset, isInDecompressedData: decompressed,
                excerpt: Self.excerpt(storage, at: range.lowerBound + KafkaRecordBatch.magicOffset), baseOffset: baseOffset)
        }
        if verifiesCRC {
            let computed = CRC32.checksum(storage[(range.lowerBound + KafkaRecordBatch.magicOffset)..<range.upperBound])
            guard computed == message.crc else {
                throw KafkaRecordError(
                    code: .crcMismatch, expected: "CRC-32 \(Self.hex(computed)) of the message", found: "stored CRC \(Self.hex(message.crc))",
                    offset: range.lowerBound + 12, isInDecompressedData: decompressed,
                    excerpt: Self.excerpt(storage, at: range.lowerBound + 12), baseOffset: message.offset)
            }
        }
        try Self.wire(message.offset, decompressed: decompressed) { () throws(WireDecodingError) in
            if message.magic == 1 { message.timestamp = try reader.readInt64("timestamp") }
            message.key = try reader.readNullableBytes(nullable: true, "key")
            message.value = try reader.readNullableBytes(nullable: true, "value")
            try reader.expectEnd("message of size \(message.size)")
        }
        return message
    }

    func decodeLegacy(_ bytes: [UInt8], range: Range<Int>, baseOffset: Int64) throws(KafkaRecordError) -> KafkaRecordBatch {
        let wrapper = try readLegacyMessage(bytes, range: range, baseOffset: baseOffset, decompressed: false)
        let attributes = KafkaRecordBatch.Attributes(rawValue: Int16(wrapper.attributes) & 0x0F)
        let compressionID = wrapper.attributes & 0x07
        // zstd needs magic 2 (KIP-110), so only ids 0-3 are legal here.
        guard compressionID <= 3, let codec = KafkaCompressionCodec(rawValue: compressionID) else {
            throw KafkaRecordError(
                code: .unsupportedCompression, expected: "compression codec 0-3 for magic \(wrapper.magic)", found: "codec \(compressionID)",
                offset: range.lowerBound + 17, excerpt: Self.excerpt(bytes, at: range.lowerBound + 17), baseOffset: wrapper.offset)
        }
        // For magic 1, bit 3 says LogAppendTime; magic 0 has no timestamps.
        let logAppendTime = wrapper.magic == 1 && attributes.timestampType == .logAppendTime
        var records: [KafkaRecord] = []
        if codec == .none {
            records = [KafkaRecord(offset: wrapper.offset, timestamp: wrapper.timestamp, key: wrapper.key, value: wrapper.value)]
        } else {
            guard let value = wrapper.value else {
                throw KafkaRecordError(
                    code: .malformed, expected: "a compressed wrapper message with a value", found: "a null value",
                    offset: range.lowerBound, excerpt: Self.excerpt(bytes, at: range.lowerBound), baseOffset: wrapper.offset)
            }
            let inner = try decompress(value[...], codec: codec, baseOffset: wrapper.offset, at: range.upperBound - value.count)
            var innerMessages: [LegacyMessage] = []
            var position = 0
            while position < inner.count {
                let remaining = inner.count - position
                guard remaining > KafkaRecordBatch.magicOffset else {
                    throw KafkaRecordError(
                        code: .malformed, expected: "a complete inner message", found: "\(remaining) bytes left",
                        offset: position, isInDecompressedData: true, excerpt: Self.excerpt(inner, at: position), baseOffset: wrapper.offset)
                }
                let size = Int(Self.int32(inner, at: position + 8))
                let innerMagic = inner[position + KafkaRecordBatch.magicOffset]
                let minimum = innerMagic == 1 ? Self.legacyV1MinimumSize : Self.legacyV0MinimumSize
                guard size >= minimum, size <= remaining - KafkaRecordBatch.logOverhead else {
                    throw KafkaRecordError(
                        code: .malformed, expected: "inner message size between \(minimum) and \(remaining - KafkaRecordBatch.logOverhead)",
                        found: "size \(size)", offset: position + 8, isInDecompressedData: true,
                        excerpt: Self.excerpt(inner, at: position + 8), baseOffset: wrapper.offset)
                }
                let end = position + KafkaRecordBatch.logOverhead + size
                let message = try readLegacyMessage(inner, range: position..<end, baseOffset: wrapper.offset, decompressed: true)
                guard message.attributes & 0x07 == 0 else {
                    throw KafkaRecordError(
                        code: .malformed, expected: "an uncompressed inner message", found: "compression codec \(message.attributes & 0x07)",
                        offset: position + 17, isInDecompressedData: true, excerpt: Self.excerpt(inner, at: position + 17),
                        baseOffset: wrapper.offset)
                }
                innerMessages.append(message)
                position = end
            }
            // Magic 1 wrappers carry the absolute offset of their last inner message, and inner
            // offsets are relative (KIP-31); magic 0 inner messages carry absolute offsets.
            let lastInner = innerMessages.last?.offset ?? 0
            for message in innerMessages {
                let offset = wrapper.magic == 1 ? wrapper.offset &- lastInner &+ message.offset : message.offset
                let timestamp = logAppendTime ? wrapper.timestamp : (message.magic == 1 ? message.timestamp : -1)
                records.append(KafkaRecord(offset: offset, timestamp: timestamp, key: message.key, value: message.value))
            }
        }
        let firstOffset = records.first?.offset ?? wrapper.offset
        let lastOffset = records.last?.offset ?? wrapper.offset
        return KafkaRecordBatch(
            baseOffset: firstOffset, batchLength: wrapper.size, partitionLeaderEpoch: -1, magic: wrapper.magic,
            crc: wrapper.crc, attributes: attributes,
            lastOffsetDelta: Int32(truncatingIfNeeded: lastOffset &- firstOffset),
            baseTimestamp: records.first?.timestamp ?? wrapper.timestamp,
            maxTimestamp: records.map(\.timestamp).max() ?? wrapper.timestamp,
            producerID: -1, producerEpoch: -1, baseSequence: -1, recordCount: Int32(truncatingIfNeeded: records.count),
            records: records)
    }

    // MARK: Helpers

    /// A legacy v0 message after offset and size: crc 4, magic 1, attributes 1, key length 4,
    /// value length 4.
    static let legacyV0MinimumSize = 14
    /// A legacy v1 message adds an 8-byte timestamp.
    static let legacyV1MinimumSize = 22
    /// The smallest record: 7 one-byte varints and the attributes byte, less one (the length).
    static let minimumRecordSize = 7
    /// The most records reserved up front from a batch's stated count.
    static let maximumReservation = 4096

    private func decompress(_ input: ArraySlice<UInt8>, codec: KafkaCompressionCodec, baseOffset: Int64, at offset: Int) throws(KafkaRecordError) -> [UInt8] {
        var output: [UInt8] = []
        let limit = maxDecompressedBatchBytes
        do throws(CompressionError) {
            let implementation = try Compression.codec(for: codec)
            var failure: CompressionError?
            input.withUnsafeBytes { raw in
                do throws(CompressionError) {
                    try implementation.decompress(raw, into: &output, limit: limit)
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
        } catch {
            throw KafkaRecordError(
                code: .decompressionFailed, expected: "\(codec) data that decompresses to at most \(limit) bytes",
                found: error.description, offset: offset &+ (error.offset ?? 0),
                excerpt: "", baseOffset: baseOffset, compressionError: error)
        }
        return output
    }

    static func wire<T>(_ baseOffset: Int64?, decompressed: Bool, _ body: () throws(WireDecodingError) -> T) throws(KafkaRecordError) -> T {
        do throws(WireDecodingError) {
            return try body()
        } catch {
            throw .wrapping(error, baseOffset: baseOffset, decompressed: decompressed)
        }
    }

    static func int64(_ bytes: [UInt8], at index: Int) -> Int64 {
        var value: UInt64 = 0
        for byte in bytes[index..<index + 8] { value = value << 8 | UInt64(byte) }
        return Int64(bitPattern: value)
    }

    static func int32(_ bytes: [UInt8], at index: Int) -> Int32 {
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] { value = value << 8 | UInt32(byte) }
        return Int32(bitPattern: value)
    }

    static func excerpt(_ bytes: [UInt8], at index: Int) -> String {
        let start = min(max(index, 0), bytes.count)
        return ASCII.hexExcerpt(bytes[start..<min(start + 16, bytes.count)], maxBytes: 16)
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
