import ToolSupport

/// Turns the text of a `-D` or `-K` delimiter into bytes, as kcat does: `\n`, `\t`, `\r`,
/// `\\` and `\xHH` (one or two hex digits) stand for the byte they name; everything else is
/// taken as written.
public enum DelimiterEscapes {
    /// The bytes `text` stands for.
    ///
    /// - Throws: `UsageError` naming `flag` when `\x` is not followed by a hex digit.
    public static func bytes(_ text: String, flag: String) throws(UsageError) -> [UInt8] {
        try decode(text) { (escape, input, index, out) throws(UsageError) in
            switch escape {
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "x"):
                guard let value = hexByte(input, &index) else {
                    throw UsageError("invalid \(flag) delimiter '\(text)': \\x must be followed by a hex number, as in \\x1e")
                }
                out.append(value)
            default:
                out.append(UInt8(ascii: "\\"))
                out.append(escape)
            }
        }
    }

    /// Copies `text` as bytes, turning `\n`, `\t` and `\r` into their bytes and handing every
    /// other escaped byte to `escape` (with the input, the index after it, and the output) — the
    /// part that delimiters and `-f` formats share.
    static func decode<Failure: Error>(_ text: String, escape: (UInt8, [UInt8], inout Int, inout [UInt8]) throws(Failure) -> Void) throws(Failure) -> [UInt8] {
        let input = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < input.count {
            let byte = input[index]
            index += 1
            guard byte == UInt8(ascii: "\\"), index < input.count else {
                out.append(byte)
                continue
            }
            let escaped = input[index]
            index += 1
            switch escaped {
            case UInt8(ascii: "n"): out.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "t"): out.append(UInt8(ascii: "\t"))
            case UInt8(ascii: "r"): out.append(UInt8(ascii: "\r"))
            default: try escape(escaped, input, &index, &out)
            }
        }
        return out
    }

    /// Reads one or two hex digits at `index` (advancing past them); nil when there is none.
    static func hexByte(_ input: [UInt8], _ index: inout Int) -> UInt8? {
        var value: UInt8 = 0
        var digits = 0
        while digits < 2, index < input.count, let digit = hexValue(input[index]) {
            value = value &* 16 &+ digit
            digits += 1
            index += 1
        }
        return digits > 0 ? value : nil
    }

    /// The value of an ASCII hex digit, nil for any other byte.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
