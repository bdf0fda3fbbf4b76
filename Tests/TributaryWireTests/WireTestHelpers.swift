import TributaryWire

/// Parses hex such as `"00 03 61 62"` (spaces and newlines ignored) into bytes.
func hexBytes(_ text: String) -> [UInt8] {
    let digits = text.filter { $0.isHexDigit }
    var bytes: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        bytes.append(UInt8(digits[index..<next], radix: 16) ?? 0)
        index = next
    }
    return bytes
}

/// The bytes `body` writes.
func written(_ body: (inout ByteWriter) throws -> Void) throws -> [UInt8] {
    var writer = ByteWriter()
    try body(&writer)
    return writer.bytes
}

/// The encoding error `body` throws, or nil when it succeeds.
func encodingError(_ body: (inout ByteWriter) throws -> Void) -> WireEncodingError? {
    var writer = ByteWriter()
    do {
        try body(&writer)
        return nil
    } catch {
        return error as? WireEncodingError
    }
}

/// The decoding error `body` throws when reading `bytes`, or nil when it succeeds.
func decodingError<T>(_ bytes: [UInt8], limits: ByteReader.Limits = .default, _ body: (inout ByteReader) throws -> T) -> WireDecodingError? {
    var reader = ByteReader(bytes, limits: limits)
    do {
        _ = try body(&reader)
        return nil
    } catch {
        return error as? WireDecodingError
    }
}
