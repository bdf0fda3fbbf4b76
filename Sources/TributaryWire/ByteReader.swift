/// A bounded cursor over bytes from a peer: big-endian integers, varints, length-prefixed strings
/// and byte sequences, array counts, UUIDs and tagged-field sections.
///
/// Every length and count is checked against the configured ``Limits`` **and** against the bytes
/// left before anything is allocated, so a hostile length costs nothing. Every failure is a
/// ``WireDecodingError`` naming what was expected, what arrived, the offset and a hex excerpt;
/// nothing here traps on peer input.
///
/// The reader holds an `[UInt8]` (copy-on-write, so creating one over an array or a range of it
/// does not copy) and reads the range it was given. Offsets in errors count from the start of
/// that array. Methods taking `compact: true` read the compact forms of flexible versions
/// (KIP-482); see ``ByteWriter``.
public struct ByteReader: Sendable {
    /// Upper bounds applied to lengths and counts before allocating.
    public struct Limits: Hashable, Sendable {
        /// The longest string accepted, in UTF-8 bytes. Default 32767, the int16 maximum that
        /// Kafka applies to compact strings too.
        public var maxStringLength: Int
        /// The longest byte sequence accepted. Default 100 MiB, like Kafka's
        /// `socket.request.max.bytes`.
        public var maxBytesLength: Int
        /// The largest array count accepted. Default 1,048,576.
        public var maxArrayCount: Int

        /// The default string limit: 32767 bytes.
        public static let defaultMaxStringLength = Int(Int16.max)
        /// The default byte-sequence limit: 100 MiB.
        public static let defaultMaxBytesLength = 100 * 1024 * 1024
        /// The default array-count limit: 1,048,576 elements.
        public static let defaultMaxArrayCount = 1 << 20

        /// Creates limits; every argument defaults to the documented default.
        public init(
            maxStringLength: Int = Limits.defaultMaxStringLength,
            maxBytesLength: Int = Limits.defaultMaxBytesLength,
            maxArrayCount: Int = Limits.defaultMaxArrayCount
        ) {
            self.maxStringLength = maxStringLength
            self.maxBytesLength = maxBytesLength
            self.maxArrayCount = maxArrayCount
        }

        /// The default limits.
        public static let `default` = Limits()
    }

    private let storage: [UInt8]
    /// The offset of the next byte to read, counted from the start of the underlying array.
    public private(set) var offset: Int
    /// The offset just past the last readable byte.
    public let endOffset: Int
    /// The limits applied to lengths and counts.
    public var limits: Limits

    /// Creates a reader over all of `bytes`.
    public init(_ bytes: [UInt8], limits: Limits = .default) {
        storage = bytes
        offset = 0
        endOffset = bytes.count
        self.limits = limits
    }

    /// Creates a reader over `range` of `bytes` without copying; offsets in errors count from the
    /// start of `bytes`. The range is clamped to the array.
    public init(_ bytes: [UInt8], range: Range<Int>, limits: Limits = .default) {
        storage = bytes
        let lower = min(max(range.lowerBound, 0), bytes.count)
        offset = lower
        endOffset = min(max(range.upperBound, lower), bytes.count)
        self.limits = limits
    }

    /// Creates a reader over a copy of `buffer`.
    public init(copying buffer: UnsafeRawBufferPointer, limits: Limits = .default) {
        self.init([UInt8](buffer), limits: limits)
    }

    /// The number of bytes left to read.
    public var remainingCount: Int { endOffset - offset }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { offset >= endOffset }

    /// The unread bytes, without consuming them.
    public var remainingBytes: ArraySlice<UInt8> { storage[offset..<endOffset] }

    // MARK: Errors

    /// An error at `position` (default: the current offset) with an excerpt from there.
    public func error(_ code: WireDecodingError.Code, expected: String, found: String, at position: Int? = nil) -> WireDecodingError {
        let start = min(max(position ?? offset, 0), storage.count)
        let end = min(start + 16, max(endOffset, start))
        return WireDecodingError(code: code, expected: expected, found: found, offset: start, excerpt: ASCII.hexExcerpt(storage[start..<end], maxBytes: 16))
    }

    private func truncated(_ expected: String, needed: Int, at position: Int? = nil) -> WireDecodingError {
        let start = position ?? offset
        let left = endOffset - start
        return error(.truncated, expected: expected, found: "\(left) byte\(left == 1 ? "" : "s") left where \(needed) are needed", at: start)
    }

    /// Throws unless every byte has been read.
    ///
    /// - Parameter what: the value that should have ended here (`ApiVersionsResponse`).
    public func expectEnd(_ what: String) throws(WireDecodingError) {
        guard isAtEnd else {
            throw error(.trailingBytes, expected: "end of \(what)", found: "\(remainingCount) more byte\(remainingCount == 1 ? "" : "s")")
        }
    }

    // MARK: Fixed-width values

    @inline(__always)
    private mutating func take(_ count: Int, _ expected: @autoclosure () -> String) throws(WireDecodingError) -> Int {
        guard endOffset - offset >= count else { throw truncated(expected(), needed: count) }
        let start = offset
        offset += count
        return start
    }

    @inline(__always)
    private func loadUInt16(at index: Int) -> UInt16 {
        UInt16(storage[index]) << 8 | UInt16(storage[index + 1])
    }

    @inline(__always)
    private func loadUInt32(at index: Int) -> UInt32 {
        storage.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: index, as: UInt32.self)) }
    }

    @inline(__always)
    private func loadUInt64(at index: Int) -> UInt64 {
        storage.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: index, as: UInt64.self)) }
    }

    /// Reads one byte as a signed integer.
    public mutating func readInt8(_ field: String = "int8") throws(WireDecodingError) -> Int8 {
        Int8(bitPattern: storage[try take(1, "int8 \(field)")])
    }

    /// Reads one byte.
    public mutating func readUInt8(_ field: String = "uint8") throws(WireDecodingError) -> UInt8 {
        storage[try take(1, "uint8 \(field)")]
    }

    /// Reads a boolean byte; any non-zero value is true, as Kafka's Java client reads it.
    public mutating func readBool(_ field: String = "bool") throws(WireDecodingError) -> Bool {
        storage[try take(1, "bool \(field)")] != 0
    }

    /// Reads a big-endian int16.
    public mutating func readInt16(_ field: String = "int16") throws(WireDecodingError) -> Int16 {
        Int16(bitPattern: loadUInt16(at: try take(2, "int16 \(field)")))
    }

    /// Reads a big-endian uint16.
    public mutating func readUInt16(_ field: String = "uint16") throws(WireDecodingError) -> UInt16 {
        loadUInt16(at: try take(2, "uint16 \(field)"))
    }

    /// Reads a big-endian int32.
    public mutating func readInt32(_ field: String = "int32") throws(WireDecodingError) -> Int32 {
        Int32(bitPattern: loadUInt32(at: try take(4, "int32 \(field)")))
    }

    /// Reads a big-endian uint32.
    public mutating func readUInt32(_ field: String = "uint32") throws(WireDecodingError) -> UInt32 {
        loadUInt32(at: try take(4, "uint32 \(field)"))
    }

    /// Reads a big-endian int64.
    public mutating func readInt64(_ field: String = "int64") throws(WireDecodingError) -> Int64 {
        Int64(bitPattern: loadUInt64(at: try take(8, "int64 \(field)")))
    }

    /// Reads a big-endian uint64.
    public mutating func readUInt64(_ field: String = "uint64") throws(WireDecodingError) -> UInt64 {
        loadUInt64(at: try take(8, "uint64 \(field)"))
    }

    /// Reads a big-endian IEEE 754 double.
    public mutating func readFloat64(_ field: String = "float64") throws(WireDecodingError) -> Double {
        Double(bitPattern: loadUInt64(at: try take(8, "float64 \(field)")))
    }

    /// Reads a 16-byte UUID.
    public mutating func readUUID(_ field: String = "uuid") throws(WireDecodingError) -> WireUUID {
        let start = try take(16, "uuid \(field)")
        return WireUUID(high: loadUInt64(at: start), low: loadUInt64(at: start + 8))
    }

    /// Reads `count` bytes as they are (no length prefix).
    ///
    /// - Throws: when `count` is negative or more than the bytes left.
    public mutating func readRawBytes(count: Int, _ field: String = "bytes") throws(WireDecodingError) -> [UInt8] {
        guard count >= 0 else { throw error(.invalidLength, expected: "\(field)", found: "length \(count)") }
        let start = try take(count, "\(count) bytes of \(field)")
        return Array(storage[start..<start + count])
    }

    /// Consumes the next `count` bytes and returns a reader over just them (sharing storage, with
    /// the same limits), for values whose size is given up front such as tagged fields.
    public mutating func readSubReader(count: Int, _ field: String = "value") throws(WireDecodingError) -> ByteReader {
        guard count >= 0 else { throw error(.invalidLength, expected: "\(field)", found: "length \(count)") }
        let start = try take(count, "\(count) bytes of \(field)")
        return ByteReader(storage, range: start..<start + count, limits: limits)
    }

    // MARK: Varints

    /// Reads an unsigned varint of at most 5 bytes.
    ///
    /// Non-minimal encodings (extra `0x80` groups) are accepted, as the Java client accepts
    /// them; a sixth byte, or a fifth byte with bits beyond 32, is rejected as malformed.
    public mutating func readUnsignedVarint(_ field: String = "unsigned varint") throws(WireDecodingError) -> UInt32 {
        let start = offset
        var result: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            guard offset < endOffset else {
                throw error(.truncated, expected: "varint \(field)", found: "input ends after \(offset - start) byte\(offset - start == 1 ? "" : "s") of it", at: start)
            }
            let byte = storage[offset]
            offset += 1
            if shift == 28 {
                guard byte <= 0x0F else {
                    throw error(.malformedVarint, expected: "varint \(field) of at most 5 bytes", found: byte & 0x80 != 0 ? "a continuation bit in byte 5" : "bits beyond 32 in byte 5", at: start)
                }
                return result | UInt32(byte) << 28
            }
            result |= UInt32(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Reads an unsigned varint of at most 10 bytes (non-minimal encodings accepted, overflow
    /// beyond 64 bits rejected).
    public mutating func readUnsignedVarlong(_ field: String = "unsigned varlong") throws(WireDecodingError) -> UInt64 {
        let start = offset
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < endOffset else {
                throw error(.truncated, expected: "varlong \(field)", found: "input ends after \(offset - start) byte\(offset - start == 1 ? "" : "s") of it", at: start)
            }
            let byte = storage[offset]
            offset += 1
            if shift == 63 {
                guard byte <= 0x01 else {
                    throw error(.malformedVarint, expected: "varlong \(field) of at most 10 bytes", found: byte & 0x80 != 0 ? "a continuation bit in byte 10" : "bits beyond 64 in byte 10", at: start)
                }
                return result | UInt64(byte) << 63
            }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// Reads a zigzag-encoded signed varint (Kafka record fields).
    public mutating func readVarint(_ field: String = "varint") throws(WireDecodingError) -> Int32 {
        let raw = try readUnsignedVarint(field)
        return Int32(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// Reads a zigzag-encoded signed 64-bit varint.
    public mutating func readVarlong(_ field: String = "varlong") throws(WireDecodingError) -> Int64 {
        let raw = try readUnsignedVarlong(field)
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    // MARK: Lengths

    /// Reads a length or count prefix and checks it against `maximum`, the bytes left (each
    /// unit taking at least `minimumUnitSize` bytes) and nullability.
    ///
    /// - Returns: nil for the null marker (only when `nullable`).
    private mutating func readLength(
        compact: Bool,
        int16: Bool,
        nullable: Bool,
        maximum: Int,
        minimumUnitSize: Int,
        _ what: String
    ) throws(WireDecodingError) -> Int? {
        let start = offset
        let raw: Int
        if compact {
            let encoded = try readUnsignedVarint("length of \(what)")
            raw = Int(encoded) - 1
        } else if int16 {
            raw = Int(try readInt16("length of \(what)"))
        } else {
            raw = Int(try readInt32("length of \(what)"))
        }
        if raw == -1 {
            guard nullable else {
                throw error(.unexpectedNull, expected: "non-null \(what)", found: "the null marker", at: start)
            }
            return nil
        }
        guard raw >= 0 else {
            throw error(.invalidLength, expected: "length of \(what)", found: "length \(raw)", at: start)
        }
        guard raw <= maximum else {
            throw error(.limitExceeded, expected: "\(what) of at most \(maximum)", found: "length \(raw)", at: start)
        }
        let unit = max(minimumUnitSize, 0)
        guard unit == 0 || raw <= remainingCount / unit else {
            throw error(.truncated, expected: "\(what) of length \(raw)", found: "\(remainingCount) byte\(remainingCount == 1 ? "" : "s") left", at: start)
        }
        return raw
    }

    /// Reads a string length prefix (int16, or compact), checked against the limit and the bytes
    /// left; nil for null when `nullable`.
    public mutating func readStringLength(compact: Bool, nullable: Bool, _ field: String = "string") throws(WireDecodingError) -> Int? {
        try readLength(compact: compact, int16: true, nullable: nullable, maximum: limits.maxStringLength, minimumUnitSize: 1, "string \(field)")
    }

    /// Reads a byte-sequence length prefix (int32, or compact); nil for null when `nullable`.
    public mutating func readBytesLength(compact: Bool, nullable: Bool, _ field: String = "bytes") throws(WireDecodingError) -> Int? {
        try readLength(compact: compact, int16: false, nullable: nullable, maximum: limits.maxBytesLength, minimumUnitSize: 1, "bytes \(field)")
    }

    /// Reads an array count prefix (int32, or compact); nil for null when `nullable`.
    ///
    /// The count must not exceed ``Limits/maxArrayCount``, and `count × minimumElementSize` must
    /// fit in the bytes left, so a hostile count cannot make the caller allocate or loop.
    public mutating func readArrayCount(compact: Bool, nullable: Bool, minimumElementSize: Int = 1, _ field: String = "array") throws(WireDecodingError) -> Int? {
        try readLength(compact: compact, int16: false, nullable: nullable, maximum: limits.maxArrayCount, minimumUnitSize: minimumElementSize, "array \(field)")
    }

    // MARK: Strings and byte sequences

    private mutating func readUTF8(count: Int, _ field: String) throws(WireDecodingError) -> String {
        let start = try take(count, "string \(field)")
        let slice = storage[start..<start + count]
        guard let value = String(validating: slice, as: UTF8.self) else {
            throw error(.invalidUTF8, expected: "UTF-8 string \(field)", found: "invalid UTF-8", at: start)
        }
        return value
    }

    /// Reads a non-null string (int16 length, or compact length, then UTF-8).
    ///
    /// - Throws: on the null marker, invalid UTF-8, a length over the limit or past the end.
    public mutating func readString(compact: Bool = false, _ field: String = "string") throws(WireDecodingError) -> String {
        // A non-nullable read never returns nil.
        let length = try readStringLength(compact: compact, nullable: false, field) ?? 0
        return try readUTF8(count: length, field)
    }

    /// Reads a string that may be null; the null marker is an error when `nullable` is false
    /// (the field is not nullable at this version).
    public mutating func readNullableString(compact: Bool = false, nullable: Bool = true, _ field: String = "string") throws(WireDecodingError) -> String? {
        guard let length = try readStringLength(compact: compact, nullable: nullable, field) else { return nil }
        return try readUTF8(count: length, field)
    }

    /// Reads a compact string.
    public mutating func readCompactString(_ field: String = "string") throws(WireDecodingError) -> String {
        try readString(compact: true, field)
    }

    /// Reads a compact nullable string.
    public mutating func readCompactNullableString(_ field: String = "string") throws(WireDecodingError) -> String? {
        try readNullableString(compact: true, nullable: true, field)
    }

    /// Reads a non-null byte sequence (int32 length, or compact length, then the bytes).
    public mutating func readBytes(compact: Bool = false, _ field: String = "bytes") throws(WireDecodingError) -> [UInt8] {
        let length = try readBytesLength(compact: compact, nullable: false, field) ?? 0
        return try readRawBytes(count: length, field)
    }

    /// Reads a byte sequence that may be null.
    public mutating func readNullableBytes(compact: Bool = false, nullable: Bool = true, _ field: String = "bytes") throws(WireDecodingError) -> [UInt8]? {
        guard let length = try readBytesLength(compact: compact, nullable: nullable, field) else { return nil }
        return try readRawBytes(count: length, field)
    }

    /// Reads compact bytes.
    public mutating func readCompactBytes(_ field: String = "bytes") throws(WireDecodingError) -> [UInt8] {
        try readBytes(compact: true, field)
    }

    /// Reads compact nullable bytes.
    public mutating func readCompactNullableBytes(_ field: String = "bytes") throws(WireDecodingError) -> [UInt8]? {
        try readNullableBytes(compact: true, nullable: true, field)
    }

    // MARK: Arrays

    /// Reads a non-null array: the count prefix, then each element as `element` reads it.
    public mutating func readArray<Element>(
        compact: Bool,
        minimumElementSize: Int = 1,
        _ field: String = "array",
        element: (inout ByteReader) throws(WireDecodingError) -> Element
    ) throws(WireDecodingError) -> [Element] {
        let count = try readArrayCount(compact: compact, nullable: false, minimumElementSize: minimumElementSize, field) ?? 0
        return try readElements(count: count, element: element)
    }

    /// Reads an array that may be null (only when `nullable`).
    public mutating func readNullableArray<Element>(
        compact: Bool,
        nullable: Bool,
        minimumElementSize: Int = 1,
        _ field: String = "array",
        element: (inout ByteReader) throws(WireDecodingError) -> Element
    ) throws(WireDecodingError) -> [Element]? {
        guard let count = try readArrayCount(compact: compact, nullable: nullable, minimumElementSize: minimumElementSize, field) else { return nil }
        return try readElements(count: count, element: element)
    }

    private mutating func readElements<Element>(
        count: Int,
        element: (inout ByteReader) throws(WireDecodingError) -> Element
    ) throws(WireDecodingError) -> [Element] {
        var elements: [Element] = []
        elements.reserveCapacity(count)
        for _ in 0..<count {
            elements.append(try element(&self))
        }
        return elements
    }

    // MARK: Tagged fields

    /// Reads a tagged-field section (KIP-482).
    ///
    /// For each field, `known` receives the tag and a reader over exactly the field's bytes; it
    /// returns true when it decoded the field, and must then have read all of it. Fields it
    /// returns false for are returned, in wire order, so they can be preserved.
    ///
    /// - Parameter what: the struct the section belongs to, for error messages.
    public mutating func readTaggedFields(
        _ what: String = "struct",
        known: (UInt32, inout ByteReader) throws(WireDecodingError) -> Bool
    ) throws(WireDecodingError) -> [WireTaggedField] {
        let start = offset
        let count = Int(try readUnsignedVarint("tagged field count of \(what)"))
        // Each field takes at least two bytes (tag and size).
        guard count <= remainingCount / 2 else {
            throw error(.truncated, expected: "\(count) tagged fields of \(what)", found: "\(remainingCount) byte\(remainingCount == 1 ? "" : "s") left", at: start)
        }
        var unknown: [WireTaggedField] = []
        var seen: [UInt32] = []
        for _ in 0..<count {
            let tagOffset = offset
            let tag = try readUnsignedVarint("tag in \(what)")
            // A tag appears at most once (KIP-482); a repeated one could not be written back.
            guard !seen.contains(tag) else {
                throw error(.invalidValue, expected: "each tag once in the tagged fields of \(what)", found: "tag \(tag) again", at: tagOffset)
            }
            if count > 1 { seen.append(tag) }
            let sizeOffset = offset
            let size = Int(try readUnsignedVarint("size of tagged field \(tag) of \(what)"))
            guard size <= limits.maxBytesLength else {
                throw error(.limitExceeded, expected: "tagged field \(tag) of \(what) of at most \(limits.maxBytesLength) bytes", found: "size \(size)", at: sizeOffset)
            }
            var field = try readSubReader(count: size, "tagged field \(tag) of \(what)")
            let fieldStart = field.offset
            if try known(tag, &field) {
                try field.expectEnd("tagged field \(tag) of \(what)")
            } else {
                unknown.append(WireTaggedField(tag: tag, bytes: Array(storage[fieldStart..<fieldStart + size])))
            }
        }
        return unknown
    }
}
