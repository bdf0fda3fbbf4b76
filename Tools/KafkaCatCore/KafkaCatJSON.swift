/// The JSON kcat prints with `-J`: one compact object per record (`-C`) or one for the
/// metadata (`-L`). Keys and values are written as JSON strings of their UTF-8 text (bytes that
/// are not UTF-8 become U+FFFD); null keys, values and header values are `null`.
public enum KafkaCatJSON {
    /// One record's envelope, in kcat's key order: `topic`, `partition`, `offset`, `tstype`
    /// (`create` or `logappend`), `ts`, `broker` (the partition leader's id, -1 when unknown), `headers` (only when the
    /// record has any: `["name","value",…]`), `key`, `payload`.
    public static func record(_ record: KafkaCatRecord) -> String {
        var out = "{\"topic\":" + string(record.topic)
        out += ",\"partition\":\(record.partition),\"offset\":\(record.offset)"
        out += ",\"tstype\":" + (record.isLogAppendTime ? "\"logappend\"" : "\"create\"") + ",\"ts\":\(record.timestamp)"
        out += ",\"broker\":\(record.broker)"
        if !record.headers.isEmpty {
            out += ",\"headers\":["
            out += record.headers.map { string($0.name) + "," + bytes($0.value) }.joined(separator: ",")
            out += "]"
        }
        out += ",\"key\":" + bytes(record.key)
        out += ",\"payload\":" + bytes(record.value)
        return out + "}"
    }

    /// `bytes` as a JSON string, or `null`.
    public static func bytes(_ bytes: [UInt8]?) -> String {
        guard let bytes else { return "null" }
        return string(String(decoding: bytes, as: UTF8.self))
    }

    /// `text` as a JSON string: `"` and `\` escaped, control characters as `\n`, `\t`, `\r`,
    /// `\b`, `\f` or `\u00XX`.
    public static func string(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
