import TributaryWire

/// Reads the `records` blob of a Fetch response one batch at a time, and each batch one record
/// at a time.
///
/// ``KafkaRecordBatchDecoder/decode(_:)`` turns the whole blob into records at once; a small
/// compressed blob can expand to millions of records that way. A consumer that must bound its
/// memory uses this reader instead: it holds the blob, at most one decompressed records section
/// (bounded by ``KafkaRecordBatchDecoder/maxDecompressedBatchBytes``) and the records it has
/// taken so far, and can stop or pause between any two records.
///
/// Every check of the decoder applies: CRCs, codecs, lengths, and offset deltas that increase
/// strictly up to the batch's `lastOffsetDelta` (a batch that repeats an offset is malformed).
/// Pure: no I/O.
///
/// ```swift
/// var reader = KafkaRecordBatchReader(bytes, decoder: decoder)
/// while let batch = try reader.nextBatch() {
///     while let record = try reader.nextRecord() { … }
/// }
/// ```
public struct KafkaRecordBatchReader: Sendable {
    /// What the current batch's records come from. The records section and its counters are
    /// stored properties (not enum payloads), so reading a record mutates them in place.
    private enum Source: Sendable {
        case none
        /// A magic 2 batch: ``records`` from ``left`` on.
        case batch
        /// A legacy message set, decoded whole (one message, or one compressed wrapper).
        case legacy
    }

    private let bytes: [UInt8]
    private let decoder: KafkaRecordBatchDecoder
    private var position = 0
    private var source = Source.none
    /// The current magic 2 batch's records section.
    private var records = ByteReader([])
    /// Records of the current batch not read yet.
    private var left = 0
    /// The offset delta of the record read last (-1 before the first).
    private var previousDelta: Int64 = -1
    private var decompressed = false
    /// A control batch's first record, read for its marker and kept by the decoder's
    /// `keepsControlRecords`: handed out before the rest of the batch.
    private var held: KafkaRecord?
    private var legacyRecords: [KafkaRecord] = []
    private var legacyNext = 0
    /// The batch being read: its header, `records` empty. Nil before the first ``nextBatch()``
    /// and after the last.
    public private(set) var batch: KafkaRecordBatch?
    /// Bytes of the current batch's decompressed records section (0 when it is not compressed):
    /// memory the reader holds until the next ``nextBatch()``.
    public private(set) var decompressedByteCount = 0
    /// After ``nextBatch()`` returned nil: the bytes of a partial batch at the end of the blob
    /// (see ``KafkaRecordSet/truncatedByteCount``).
    public private(set) var truncatedByteCount = 0

    /// At most how many records are still to come: the current batch's unread records plus one
    /// per 16 bytes after it (a record takes at least 8 bytes, a compressed batch may hold more).
    /// For sizing the array the records go into.
    public var expectedRemainingRecords: Int {
        let current = switch source {
        case .none: 0
        case .batch: left + (held == nil ? 0 : 1)
        case .legacy: legacyRecords.count - legacyNext
        }
        return current + (bytes.count - position) / 16
    }

    /// A reader over `bytes` with `decoder`'s settings (CRC checks, decompression bound,
    /// control records).
    public init(_ bytes: [UInt8], decoder: KafkaRecordBatchDecoder = KafkaRecordBatchDecoder()) {
        self.bytes = bytes
        self.decoder = decoder
    }

    /// Moves to the next complete batch and returns its header (`records` empty; for a control
    /// batch ``KafkaRecordBatch/controlMarker`` is set). Unread records of the previous batch
    /// are skipped. Nil at the end of the blob or at a partial batch (see
    /// ``truncatedByteCount``).
    ///
    /// - Throws: ``KafkaRecordError`` as ``KafkaRecordBatchDecoder/decode(_:)``.
    public mutating func nextBatch() throws(KafkaRecordError) -> KafkaRecordBatch? {
        source = .none
        records = ByteReader([])
        held = nil
        legacyRecords = []
        batch = nil
        decompressedByteCount = 0
        switch try KafkaRecordBatchDecoder.locateBatch(in: bytes, at: position) {
        case .end:
            return nil
        case .truncated(let count):
            truncatedByteCount = count
            position = bytes.count
            return nil
        case .batch(let range, let baseOffset, let magic):
            position = range.upperBound
            if magic != 2 {
                var legacy = try decoder.decodeLegacy(bytes, range: range, baseOffset: baseOffset)
                legacyRecords = legacy.records
                legacyNext = 0
                source = .legacy
                legacy.records = []
                batch = legacy
                return legacy
            }
            let opened = try decoder.openBatch(bytes, range: range, baseOffset: baseOffset)
            var header = opened.header
            decompressedByteCount = opened.decompressedByteCount
            records = opened.records
            left = Int(header.recordCount)
            previousDelta = -1
            decompressed = opened.decompressed
            source = .batch
            batch = header
            if header.isControl {
                // The marker is in the first record (KIP-98); a control batch emptied by
                // compaction (kept for producer state) has none.
                let first = try nextRecord()
                if let first { header.controlMarker = try KafkaRecordBatchDecoder.controlMarker(first, baseOffset: baseOffset) }
                batch = header
                if decoder.keepsControlRecords {
                    held = first
                } else {
                    // Not handed out: read through (and check) the rest now, keeping nothing.
                    while try nextRecord() != nil {}
                }
            }
            return header
        }
    }

    /// The next record of the current batch, with its absolute offset and timestamp; nil when
    /// the batch has no more (its records section was then checked to end exactly there).
    ///
    /// - Throws: ``KafkaRecordError`` `malformed` for a record that does not decode, an offset
    ///   delta that does not increase or exceeds `lastOffsetDelta`, or bytes left over.
    public mutating func nextRecord() throws(KafkaRecordError) -> KafkaRecord? {
        switch source {
        case .none:
            return nil
        case .legacy:
            guard legacyNext < legacyRecords.count else { return nil }
            legacyNext += 1
            return legacyRecords[legacyNext - 1]
        case .batch:
            if let first = held {
                held = nil
                return first
            }
            guard let header = batch else { return nil }
            let baseOffset = header.baseOffset
            if left == 0 {
                source = .none
                do throws(WireDecodingError) {
                    try records.expectEnd("records section of \(header.recordCount) records")
                } catch {
                    throw .wrapping(error, baseOffset: baseOffset, decompressed: decompressed)
                }
                return nil
            }
            let start = records.offset
            var record: KafkaRecord
            do throws(WireDecodingError) {
                record = try KafkaRecordBatchDecoder.readRecord(&records)
            } catch {
                source = .none
                throw .wrapping(error, baseOffset: baseOffset, decompressed: decompressed)
            }
            let delta = record.offset
            guard delta > previousDelta, delta <= Int64(header.lastOffsetDelta) else {
                source = .none
                let found = previousDelta < 0 ? "offset delta \(delta) for the first record" : "offset delta \(delta) after \(previousDelta)"
                throw .wrapping(records.error(.invalidValue, expected: "offset deltas that increase strictly up to lastOffsetDelta \(header.lastOffsetDelta)",
                                              found: found, at: start),
                                baseOffset: baseOffset, decompressed: decompressed)
            }
            previousDelta = delta
            left -= 1
            record.offset = baseOffset &+ delta
            record.timestamp = header.attributes.timestampType == .logAppendTime ? header.maxTimestamp : header.baseTimestamp &+ record.timestamp
            return record
        }
    }
}
