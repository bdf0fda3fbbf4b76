import Foundation

/// Parses one JSON document (RFC 8259) from UTF-8 bytes.
struct JSONParser {
    private let bytes: [UInt8]
    private let file: String
    private var index = 0
    private var line = 1
    /// Nesting limit, so a hostile or broken file cannot exhaust the stack.
    private let maxDepth = 64

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    /// Parses the whole input as a single JSON value.
    static func parse(_ data: Data, file: String) throws(SpecError) -> JSONNode {
        var parser = JSONParser(bytes: [UInt8](data), file: file)
        // Tolerate a UTF-8 byte order mark, which some editors write.
        if parser.bytes.starts(with: [0xEF, 0xBB, 0xBF]) { parser.index = 3 }
        parser.skipWhitespace()
        let node = try parser.parseValue(depth: 0, path: "")
        parser.skipWhitespace()
        if parser.index < parser.bytes.count {
            throw parser.syntaxError("unexpected \(parser.describeCurrent()) after the end of the document")
        }
        return node
    }

    private func syntaxError(_ message: String) -> SpecError {
        SpecError(file: file, key: "", line: line, message: "invalid JSON: \(message)")
    }

    private func describeCurrent() -> String {
        guard index < bytes.count else { return "end of file" }
        let byte = bytes[index]
        if byte >= 0x21 && byte < 0x7F {
            return "character '\(Character(Unicode.Scalar(byte)))'"
        }
        return "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                index += 1
            case UInt8(ascii: "\n"):
                index += 1
                line += 1
            default:
                return
            }
        }
    }

    private mutating func expect(_ literal: String) throws(SpecError) {
        for byte in literal.utf8 {
            guard index < bytes.count, bytes[index] == byte else {
                throw syntaxError("expected '\(literal)', found \(describeCurrent())")
            }
            index += 1
        }
    }

    private mutating func parseValue(depth: Int, path: String) throws(SpecError) -> JSONNode {
        guard depth < maxDepth else { throw syntaxError("nesting deeper than \(maxDepth) levels") }
        guard index < bytes.count else { throw syntaxError("expected a value, found end of file") }
        let startLine = line
        switch bytes[index] {
        case UInt8(ascii: "{"):
            return JSONNode(value: try parseObject(depth: depth, path: path), line: startLine)
        case UInt8(ascii: "["):
            return JSONNode(value: try parseArray(depth: depth, path: path), line: startLine)
        case UInt8(ascii: "\""):
            return JSONNode(value: .string(try parseString()), line: startLine)
        case UInt8(ascii: "t"):
            try expect("true")
            return JSONNode(value: .bool(true), line: startLine)
        case UInt8(ascii: "f"):
            try expect("false")
            return JSONNode(value: .bool(false), line: startLine)
        case UInt8(ascii: "n"):
            try expect("null")
            return JSONNode(value: .null, line: startLine)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSONNode(value: try parseNumber(), line: startLine)
        default:
            throw syntaxError("expected a value, found \(describeCurrent())")
        }
    }

    private mutating func parseObject(depth: Int, path: String) throws(SpecError) -> JSONNode.Value {
        index += 1  // {
        var members: [(key: String, node: JSONNode)] = []
        var seen: Set<String> = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw syntaxError("expected a quoted object key, found \(describeCurrent())")
            }
            let keyLine = line
            let key = try parseString()
            guard seen.insert(key).inserted else {
                throw SpecError(file: file, key: SpecPath.child(path, key), line: keyLine, message: "invalid JSON: duplicate key \"\(key)\" in one object")
            }
            skipWhitespace()
            try expect(":")
            skipWhitespace()
            members.append((key: key, node: try parseValue(depth: depth + 1, path: SpecPath.child(path, key))))
            skipWhitespace()
            guard index < bytes.count else { throw syntaxError("expected ',' or '}', found end of file") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            throw syntaxError("expected ',' or '}', found \(describeCurrent())")
        }
    }

    private mutating func parseArray(depth: Int, path: String) throws(SpecError) -> JSONNode.Value {
        index += 1  // [
        var elements: [JSONNode] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1, path: SpecPath.element(path, elements.count)))
            skipWhitespace()
            guard index < bytes.count else { throw syntaxError("expected ',' or ']', found end of file") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            throw syntaxError("expected ',' or ']', found \(describeCurrent())")
        }
    }

    private mutating func parseString() throws(SpecError) -> String {
        index += 1  // opening quote
        var utf8: [UInt8] = []
        while true {
            guard index < bytes.count else { throw syntaxError("unterminated string") }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let string = String(validating: utf8, as: UTF8.self) else {
                    throw syntaxError("string is not valid UTF-8")
                }
                return string
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw syntaxError("unterminated escape sequence") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""): utf8.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): utf8.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): utf8.append(UInt8(ascii: "/"))
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try parseUnicodeEscape()
                    utf8.append(contentsOf: String(Character(scalar)).utf8)
                default:
                    index -= 1
                    throw syntaxError("unknown escape sequence '\\\(describeCurrent())'")
                }
            case 0x00..<0x20:
                index -= 1
                throw syntaxError("control character in string (\(describeCurrent())); escape it")
            default:
                utf8.append(byte)
            }
        }
    }

    /// Reads the four hex digits after `\u`, and a following low surrogate when needed.
    private mutating func parseUnicodeEscape() throws(SpecError) -> Unicode.Scalar {
        let high = try parseHex4()
        if (0xD800..<0xDC00).contains(high) {
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw syntaxError("high surrogate \\u\(String(high, radix: 16)) is not followed by a low surrogate")
            }
            index += 2
            let low = try parseHex4()
            guard (0xDC00..<0xE000).contains(low) else {
                throw syntaxError("\\u\(String(low, radix: 16)) is not a low surrogate")
            }
            let combined = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            guard let scalar = Unicode.Scalar(combined) else { throw syntaxError("invalid surrogate pair") }
            return scalar
        }
        guard let scalar = Unicode.Scalar(high) else {
            throw syntaxError("lone surrogate \\u\(String(high, radix: 16))")
        }
        return scalar
    }

    private mutating func parseHex4() throws(SpecError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw syntaxError("truncated \\u escape") }
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw syntaxError("expected a hex digit in \\u escape, found \(describeCurrent())")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    private mutating func parseNumber() throws(SpecError) -> JSONNode.Value {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else {
            throw syntaxError("expected a digit, found \(describeCurrent())")
        }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count, isDigit(bytes[index]) {
                throw syntaxError("numbers must not have leading zeros")
            }
        } else {
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw syntaxError("expected a digit after '.', found \(describeCurrent())")
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else {
                throw syntaxError("expected a digit in the exponent, found \(describeCurrent())")
            }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger {
            guard let value = Int(text) else { throw syntaxError("integer \(text) does not fit in 64 bits") }
            return .integer(value)
        }
        guard let value = Double(text) else { throw syntaxError("invalid number \(text)") }
        return .double(value)
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
