/// Appends big-endian integers, varints, length-prefixed strings and byte sequences, array
/// length prefixes, UUIDs and tagged-field sections to a byte array.
///
/// Every multi-byte integer is written most significant byte first, as Kafka does. Methods that
/// take `compact: true` write the "compact" forms of flexible versions (KIP-482): an unsigned
/// varint holding the length plus one, with 0 meaning null. Otherwise strings use an int16
/// length, byte sequences and arrays an int32 length, and -1 means null.
///
/// Writing cannot fail except when a value cannot be expressed (a string longer than 32767
/// bytes, a nil where the version has no null marker); those methods throw
/// ``WireEncodingError`` before appending anything.
public struct ByteWriter: Sendable {
    /// The bytes written so far (including any the writer was created with).
    public var bytes: [UInt8]

    /// Creates an empty writer, reserving `capacity` bytes.
    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Creates a writer that appends after `bytes`.
    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Lets `body` append to `buffer` through a writer, without copying the buffer.
    public static func appending<Result, Failure: Error>(
        to buffer: inout [UInt8],
        _ body: (inout ByteWriter) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        var writer = ByteWriter(bytes: [])
        swap(&writer.bytes, &buffer)
        defer { swap(&writer.bytes, &buffer) }
        return try body(&writer)
    }

    /// The number of bytes written so far.
    public var count: Int { bytes.count }

    /// Removes everything written after the first `count` bytes (to undo a failed encode).
    public mutating func truncate(to count: Int) {
        if count < bytes.count { bytes.removeSubrange(count...) }
    }

    // MARK: Fixed-width values

    /// Appends one byte.
    @inlinable
    public mutating func writeInt8(_ value: Int8) {
        bytes.append(UInt8(bitPattern: value))
    }

    /// Appends one byte.
    @inlinable
    public mutating func writeUInt8(_ value: UInt8) {
        bytes.append(value)
    }

    /// Appends a boolean as one byte, 1 for true and 0 for false.
    public mutating func writeBool(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    /// Appends a big-endian int16.
    @inlinable
    public mutating func writeInt16(_ value: Int16) {
        writeUInt16(UInt16(bitPattern: value))
    }

    /// Appends a big-endian uint16.
    @inlinable
    public mutating func writeUInt16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    /// Appends a big-endian int32.
    @inlinable
    public mutating func writeInt32(_ value: Int32) {
        writeUInt32(UInt32(bitPattern: value))
    }

    /// Appends a big-endian uint32.
    @inlinable
    public mutating func writeUInt32(_ value: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    /// Appends a big-endian int64.
    @inlinable
    public mutating func writeInt64(_ value: Int64) {
        writeUInt64(UInt64(bitPattern: value))
    }

    /// Appends a big-endian uint64.
    @inlinable
    public mutating func writeUInt64(_ value: UInt64) {
        writeUInt32(UInt32(truncatingIfNeeded: value >> 32))
        writeUInt32(UInt32(truncatingIfNeeded: value))
    }

    /// Appends an IEEE 754 double, big-endian.
    public mutating func writeFloat64(_ value: Double) {
        writeUInt64(value.bitPattern)
    }

    /// Appends the 16 bytes of a UUID.
    public mutating func writeUUID(_ value: WireUUID) {
        writeUInt64(value.high)
        writeUInt64(value.low)
    }

    /// Appends bytes as they are, without a length prefix.
    @inlinable
    public mutating func writeRawBytes(_ raw: some Sequence<UInt8>) {
        bytes.append(contentsOf: raw)
    }

    /// Appends four placeholder bytes and returns their position, for a size filled in later
    /// with ``setInt32(_:at:)``.
    public mutating func reserveInt32() -> Int {
        let position = bytes.count
        writeUInt32(0)
        return position
    }

    /// Overwrites the four bytes at `position` (from ``reserveInt32()``) with `value`.
    public mutating func setInt32(_ value: Int32, at position: Int) {
        let raw = UInt32(bitPattern: value)
        bytes[position] = UInt8(truncatingIfNeeded: raw >> 24)
        bytes[position + 1] = UInt8(truncatingIfNeeded: raw >> 16)
        bytes[position + 2] = UInt8(truncatingIfNeeded: raw >> 8)
        bytes[position + 3] = UInt8(truncatingIfNeeded: raw)
    }

    // MARK: Varints

    /// Appends an unsigned varint: 7 bits per byte, least significant group first, high bit set
    /// on every byte but the last. At most 5 bytes.
    @inlinable
    public mutating func writeUnsignedVarint(_ value: UInt32) {
        writeUnsignedVarlong(UInt64(value))
    }

    /// Appends an unsigned 64-bit varint. At most 10 bytes. A value of one byte is appended as
    /// such; a longer one is put together on the stack and appended at once (appending byte by
    /// byte checks the array's capacity and uniqueness for every byte).
    @inlinable
    public mutating func writeUnsignedVarlong(_ value: UInt64) {
        if value < 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Self.maxVarlongSize) { scratch in
            var used = 0
            Self.putUnsignedVarlong(value, into: scratch, at: &used)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<used]))
        }
    }

    /// The most bytes a varlong takes.
    @inlinable
    public static var maxVarlongSize: Int { 10 }

    /// Puts `value` as an unsigned varint (at most ``maxVarlongSize`` bytes) into `buffer` at
    /// `used` and moves `used` past it: for callers that put several fields together on the
    /// stack before appending them at once.
    @inlinable @inline(__always)
    public static func putUnsignedVarlong(_ value: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>, at used: inout Int) {
        var remaining = value
        while remaining >= 0x80 {
            buffer[used] = UInt8(truncatingIfNeeded: remaining) | 0x80
            used += 1
            remaining >>= 7
        }
        buffer[used] = UInt8(truncatingIfNeeded: remaining)
        used += 1
    }

    /// ``putUnsignedVarlong(_:into:at:)`` of `value` zigzag-encoded (0 → 0, -1 → 1, 1 → 2, …),
    /// as Kafka record fields use; an `Int32` widened to `Int64` encodes to the same bytes.
    @inlinable @inline(__always)
    public static func putVarlong(_ value: Int64, into buffer: UnsafeMutableBufferPointer<UInt8>, at used: inout Int) {
        putUnsignedVarlong(UInt64(bitPattern: (value << 1) ^ (value >> 63)), into: buffer, at: &used)
    }

    /// Appends a signed varint with zigzag encoding (0 → 0, -1 → 1, 1 → 2, …), as Kafka record
    /// fields use. At most 5 bytes.
    @inlinable
    public mutating func writeVarint(_ value: Int32) {
        writeUnsignedVarint(UInt32(bitPattern: (value << 1) ^ (value >> 31)))
    }

    /// Appends a signed 64-bit varint with zigzag encoding. At most 10 bytes.
    @inlinable
    public mutating func writeVarlong(_ value: Int64) {
        writeUnsignedVarlong(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    // MARK: Length prefixes

    /// The largest string length an int16 prefix can carry (Kafka applies it to compact strings too).
    public static let maxStringLength = Int(Int16.max)
    /// The largest byte-sequence length or array count an int32 prefix can carry.
    public static let maxInt32Length = Int(Int32.max)
    /// The largest length a compact prefix can carry (the unsigned varint holds length + 1).
    public static let maxCompactLength = Int(UInt32.max) - 1

    /// Appends the length prefix of a string of `length` bytes, or of a null string.
    ///
    /// - Throws: ``WireEncodingError`` when `length` exceeds ``maxStringLength`` or when it is nil
    ///   and `nullable` is false.
    public mutating func writeStringLength(_ length: Int?, compact: Bool, nullable: Bool = false, _ field: String = "string") throws(WireEncodingError) {
        try writeLength(length, compact: compact, nullable: nullable, maximum: Self.maxStringLength, int16: true, field)
    }

    /// Appends the length prefix of a byte sequence of `length` bytes, or of a null one.
    public mutating func writeBytesLength(_ length: Int?, compact: Bool, nullable: Bool = false, _ field: String = "bytes") throws(WireEncodingError) {
        try writeLength(length, compact: compact, nullable: nullable, maximum: compact ? Self.maxCompactLength : Self.maxInt32Length, int16: false, field)
    }

    /// Appends the count prefix of an array of `count` elements, or of a null array.
    public mutating func writeArrayLength(_ count: Int?, compact: Bool, nullable: Bool = false, _ field: String = "array") throws(WireEncodingError) {
        try writeLength(count, compact: compact, nullable: nullable, maximum: compact ? Self.maxCompactLength : Self.maxInt32Length, int16: false, field)
    }

    private mutating func writeLength(_ length: Int?, compact: Bool, nullable: Bool, maximum: Int, int16: Bool, _ field: String) throws(WireEncodingError) {
        guard let length else {
            guard nullable else {
                throw WireEncodingError(code: .nullNotAllowed, field: field, message: "nil is not allowed here")
            }
            if compact {
                writeUnsignedVarint(0)
            } else if int16 {
                writeInt16(-1)
            } else {
                writeInt32(-1)
            }
            return
        }
        guard length <= maximum else { throw .tooLong(field, length: length, maximum: maximum) }
        if compact {
            writeUnsignedVarint(UInt32(length + 1))
        } else if int16 {
            writeInt16(Int16(length))
        } else {
            writeInt32(Int32(length))
        }
    }

    // MARK: Strings and byte sequences

    /// Appends a string: int16 length (or compact length) and its UTF-8 bytes.
    ///
    /// - Throws: ``WireEncodingError`` when the UTF-8 form is longer than 32767 bytes.
    public mutating func writeString(_ value: String, compact: Bool = false, _ field: String = "string") throws(WireEncodingError) {
        let utf8 = value.utf8
        try writeStringLength(utf8.count, compact: compact, nullable: false, field)
        bytes.append(contentsOf: utf8)
    }

    /// Appends a string that may be null (length -1, or compact length 0).
    ///
    /// - Throws: ``WireEncodingError`` when the value is too long, or nil while `nullable` is false.
    public mutating func writeNullableString(_ value: String?, compact: Bool = false, nullable: Bool = true, _ field: String = "string") throws(WireEncodingError) {
        guard let value else {
            try writeStringLength(nil, compact: compact, nullable: nullable, field)
            return
        }
        try writeString(value, compact: compact, field)
    }

    /// Appends a compact string (unsigned varint length + 1, then UTF-8).
    public mutating func writeCompactString(_ value: String, _ field: String = "string") throws(WireEncodingError) {
        try writeString(value, compact: true, field)
    }

    /// Appends a compact nullable string (0 for null).
    public mutating func writeCompactNullableString(_ value: String?, _ field: String = "string") throws(WireEncodingError) {
        try writeNullableString(value, compact: true, nullable: true, field)
    }

    /// Appends a byte sequence: int32 length (or compact length) and the bytes.
    public mutating func writeBytes(_ value: [UInt8], compact: Bool = false, _ field: String = "bytes") throws(WireEncodingError) {
        try writeBytesLength(value.count, compact: compact, nullable: false, field)
        bytes.append(contentsOf: value)
    }

    /// Appends a byte sequence that may be null (length -1, or compact length 0).
    public mutating func writeNullableBytes(_ value: [UInt8]?, compact: Bool = false, nullable: Bool = true, _ field: String = "bytes") throws(WireEncodingError) {
        guard let value else {
            try writeBytesLength(nil, compact: compact, nullable: nullable, field)
            return
        }
        try writeBytes(value, compact: compact, field)
    }

    /// Appends compact bytes (unsigned varint length + 1, then the bytes).
    public mutating func writeCompactBytes(_ value: [UInt8], _ field: String = "bytes") throws(WireEncodingError) {
        try writeBytes(value, compact: true, field)
    }

    /// Appends compact nullable bytes (0 for null).
    public mutating func writeCompactNullableBytes(_ value: [UInt8]?, _ field: String = "bytes") throws(WireEncodingError) {
        try writeNullableBytes(value, compact: true, nullable: true, field)
    }

    // MARK: Arrays

    /// Appends an array: its count prefix, then each element as `element` writes it.
    public mutating func writeArray<Element>(
        _ values: [Element],
        compact: Bool,
        _ field: String = "array",
        element: (inout ByteWriter, Element) throws(WireEncodingError) -> Void
    ) throws(WireEncodingError) {
        try writeArrayLength(values.count, compact: compact, nullable: false, field)
        for value in values { try element(&self, value) }
    }

    /// Appends an array that may be null.
    public mutating func writeNullableArray<Element>(
        _ values: [Element]?,
        compact: Bool,
        nullable: Bool,
        _ field: String = "array",
        element: (inout ByteWriter, Element) throws(WireEncodingError) -> Void
    ) throws(WireEncodingError) {
        guard let values else {
            try writeArrayLength(nil, compact: compact, nullable: nullable, field)
            return
        }
        try writeArray(values, compact: compact, field, element: element)
    }

    // MARK: Tagged fields

    /// Appends a tagged-field section (KIP-482): the number of fields as an unsigned varint, then
    /// for each field in ascending tag order its tag, its size and its bytes.
    ///
    /// - Throws: ``WireEncodingError`` with code `duplicateTag` when two fields share a tag.
    public mutating func writeTaggedFields(_ fields: [WireTaggedField], _ field: String = "tagged fields") throws(WireEncodingError) {
        if fields.isEmpty {
            bytes.append(0)
            return
        }
        let sorted = fields.count == 1 ? fields : fields.sorted { $0.tag < $1.tag }
        for index in sorted.indices.dropFirst() where sorted[index].tag == sorted[index - 1].tag {
            throw WireEncodingError(code: .duplicateTag, field: field, message: "tag \(sorted[index].tag) appears twice")
        }
        for tagged in sorted where tagged.bytes.count > Self.maxCompactLength {
            throw .tooLong("\(field) tag \(tagged.tag)", length: tagged.bytes.count, maximum: Self.maxCompactLength)
        }
        writeUnsignedVarint(UInt32(sorted.count))
        for tagged in sorted {
            writeUnsignedVarint(tagged.tag)
            writeUnsignedVarint(UInt32(tagged.bytes.count))
            bytes.append(contentsOf: tagged.bytes)
        }
    }

    /// Appends an empty tagged-field section (a single zero byte).
    public mutating func writeEmptyTaggedFields() {
        bytes.append(0)
    }
}
