/// Reads the compact acknowledgement nats-server writes for a stored message —
/// `{"stream":"S","seq":N}`, optionally followed by `"domain":"D"` and `"duplicate":true` — without
/// a JSON decoder, which costs more than the rest of a publish. Pure.
///
/// Anything else (an error, escapes in a string, other keys, other spacing) returns nil, and the
/// caller decodes the payload with `JSONDecoder` as usual, so this can only be faster, never
/// different.
enum PubAckFastPath {
    static func parse(_ bytes: [UInt8]) -> PubAck? {
        var reader = Reader(bytes: bytes)
        guard reader.literal(#"{"stream":""#), let stream = reader.plainString(), !stream.isEmpty,
              reader.literal(#","seq":"#), let sequence = reader.number() else { return nil }
        var domain: String?
        var duplicate: Bool?
        if reader.literal(#","domain":""#) {
            guard let value = reader.plainString() else { return nil }
            domain = value
        }
        if reader.literal(#","duplicate":true"#) { duplicate = true }
        guard reader.literal("}"), reader.atEnd else { return nil }
        return PubAck(stream: stream, sequence: sequence, duplicate: duplicate, domain: domain)
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool { index == bytes.count }

        /// Consumes `text` when the input continues with it.
        mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard bytes.count - index >= count else { return false }
            let matches = text.withUTF8Buffer { expected in
                for offset in 0..<count where bytes[index + offset] != expected[offset] { return false }
                return true
            }
            if matches { index += count }
            return matches
        }

        /// The characters up to the closing quote (consumed); nil on a backslash or a control character.
        mutating func plainString() -> String? {
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    // Invalid UTF-8 is left to JSONDecoder, which refuses it (decoding would repair it).
                    guard let value = String(validating: bytes[start..<index], as: UTF8.self) else { return nil }
                    index += 1
                    return value
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                index += 1
            }
            return nil
        }

        /// An unsigned decimal integer without sign, fraction or leading zeros.
        mutating func number() -> UInt64? {
            let start = index
            var value: UInt64 = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                let (times, overflow) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflowSum) = times.addingReportingOverflow(UInt64(bytes[index] - UInt8(ascii: "0")))
                if overflow || overflowSum { return nil }
                value = sum
                index += 1
            }
            let digits = index - start
            if digits == 0 || (digits > 1 && bytes[start] == UInt8(ascii: "0")) { return nil }
            return value
        }
    }
}
