import ToolSupport

/// A `-f` output format of `kafka-cat -C`, parsed once and rendered per record, with kcat's
/// tokens: `%t` topic, `%p` partition, `%o` offset, `%k` key, `%K` key length, `%s` value,
/// `%S` value length, `%R` value length as 4 big-endian bytes, `%h` headers
/// (`name=value,…`), `%T` timestamp (ms), `%%` a percent sign; `\n`, `\t`, `\r`, `\\`,
/// `\xHH` and `\NNN` escapes in the text between tokens. Lengths are -1 for null.
public struct KafkaCatFormat: Sendable, Hashable {
    /// One piece of the format.
    public enum Token: Sendable, Hashable {
        case text([UInt8])
        case topic, partition, offset, key, keyLength, value, valueLength, valueLengthBinary, headers, timestamp
    }

    /// The pieces, in order.
    public var tokens: [Token]
    /// Print `NULL` for a null or empty key or value (`-Z`), as kcat does.
    public var showsNull: Bool

    /// kcat's default: the value and a newline (`%s\n`).
    public static let defaultValue = KafkaCatFormat(tokens: [.value, .text([UInt8(ascii: "\n")])])

    /// Creates a format from its pieces.
    public init(tokens: [Token], showsNull: Bool = false) {
        self.tokens = tokens
        self.showsNull = showsNull
    }

    /// Parses a `-f` format string.
    ///
    /// - Throws: `UsageError` for an unknown `%` token or a `%` at the end.
    public init(parsing format: String, showsNull: Bool = false) throws(UsageError) {
        var tokens: [Token] = []
        var literal = ""
        var characters = format.makeIterator()
        func flush() {
            if !literal.isEmpty { tokens.append(.text(Self.unescape(literal))) }
            literal = ""
        }
        while let character = characters.next() {
            guard character == "%" else {
                literal.append(character)
                continue
            }
            guard let letter = characters.next() else {
                throw UsageError("invalid -f '\(format)': it ends with '%'; write %% for a percent sign")
            }
            let token: Token
            switch letter {
            case "t": token = .topic
            case "p": token = .partition
            case "o": token = .offset
            case "k": token = .key
            case "K": token = .keyLength
            case "s": token = .value
            case "S": token = .valueLength
            case "R": token = .valueLengthBinary
            case "h": token = .headers
            case "T": token = .timestamp
            case "%":
                literal.append("%")
                continue
            default:
                throw UsageError("invalid -f '\(format)': unknown token %\(letter); use %t %p %o %k %K %s %S %R %h %T or %%")
            }
            flush()
            tokens.append(token)
        }
        flush()
        self.init(tokens: tokens, showsNull: showsNull)
    }

    /// Appends `record` rendered with this format to `out`.
    public func render(_ record: KafkaCatRecord, into out: inout [UInt8]) {
        for token in tokens {
            switch token {
            case .text(let bytes): out.append(contentsOf: bytes)
            case .topic: out.append(contentsOf: record.topic.utf8)
            case .partition: out.append(contentsOf: String(record.partition).utf8)
            case .offset: out.append(contentsOf: String(record.offset).utf8)
            case .key: appendField(record.key, into: &out)
            case .keyLength: out.append(contentsOf: String(record.key.map(\.count) ?? -1).utf8)
            case .value: appendField(record.value, into: &out)
            case .valueLength: out.append(contentsOf: String(record.value.map(\.count) ?? -1).utf8)
            case .valueLengthBinary:
                let length = UInt32(bitPattern: Int32(clamping: record.value.map(\.count) ?? -1))
                out.append(contentsOf: [UInt8(length >> 24), UInt8((length >> 16) & 0xff), UInt8((length >> 8) & 0xff), UInt8(length & 0xff)])
            case .headers:
                for (index, header) in record.headers.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    out.append(contentsOf: header.name.utf8)
                    out.append(UInt8(ascii: "="))
                    if let value = header.value { out.append(contentsOf: value) } else { out.append(contentsOf: "NULL".utf8) }
                }
            case .timestamp: out.append(contentsOf: String(record.timestamp).utf8)
            }
        }
    }

    /// `record` rendered with this format.
    public func render(_ record: KafkaCatRecord) -> [UInt8] {
        var out: [UInt8] = []
        render(record, into: &out)
        return out
    }

    private func appendField(_ bytes: [UInt8]?, into out: inout [UInt8]) {
        if let bytes, !bytes.isEmpty {
            out.append(contentsOf: bytes)
        } else if showsNull {
            out.append(contentsOf: "NULL".utf8)
        }
    }

    /// kcat's escapes in format text: `\n`, `\t`, `\r`, `\xHH`, `\NNN` (decimal) or `\0NNN`
    /// (octal); any other escaped character stands for itself (`\\` is `\`).
    static func unescape(_ text: String) -> [UInt8] {
        DelimiterEscapes.decode(text) { (escape: UInt8, input: [UInt8], index: inout Int, out: inout [UInt8]) in
            switch escape {
            case UInt8(ascii: "x"):
                out.append(DelimiterEscapes.hexByte(input, &index) ?? UInt8(ascii: "x"))
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let radix = escape == UInt8(ascii: "0") ? 8 : 10
                var value = Int(escape - UInt8(ascii: "0"))
                var digits = 1
                while digits < (radix == 8 ? 4 : 3), index < input.count, input[index] >= UInt8(ascii: "0"),
                      input[index] <= UInt8(ascii: radix == 8 ? "7" : "9") {
                    value = value * radix + Int(input[index] - UInt8(ascii: "0"))
                    digits += 1
                    index += 1
                }
                out.append(UInt8(truncatingIfNeeded: value))
            default:
                out.append(escape)
            }
        }
    }
}
