import TributaryCrypto

// The text encodings NKEYs and their JWTs use: base32 (RFC 4648, upper case, no padding),
// CRC-16/XMODEM (polynomial 0x1021, initial value 0, unreflected) and base64url without
// padding (RFC 4648 §5). Base32 and the CRC also process seeds, so they avoid branches and
// table lookups that depend on the bytes: characters are classified with masks and the CRC is
// computed bit by bit.

/// Base32 as NKEYs write it: RFC 4648 alphabet, no padding.
enum NATSBase32 {
    /// Encodes `bytes` without padding.
    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(symbol(UInt8(truncatingIfNeeded: (buffer >> UInt32(bits)) & 31)))
            }
        }
        if bits > 0 { out.append(symbol(UInt8(truncatingIfNeeded: (buffer << UInt32(5 - bits)) & 31))) }
        return out
    }

    /// The character for a 5-bit value: 'A'...'Z' for 0...25, '2'...'7' for 26...31, chosen by mask.
    @inline(__always)
    static func symbol(_ value: UInt8) -> UInt8 {
        let v = Int32(value)
        let isLetter = (v - 26) >> 31            // -1 when v < 26, else 0
        return UInt8(truncatingIfNeeded: ((v + 65) & isLetter) | ((v + 24) & ~isLetter))
    }

    /// Decodes unpadded base32; nil when a character is outside the alphabet or the length is
    /// impossible (a remainder of 1, 3 or 6 characters). Time depends on the length only.
    static func decode(_ text: [UInt8]) -> [UInt8]? {
        guard [0, 2, 4, 5, 7].contains(text.count % 8) else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(text.count * 5 / 8)
        var invalid: Int32 = 0
        var buffer: UInt32 = 0
        var bits = 0
        for character in text {
            let c = Int32(character)
            // Masks of -1 when c is in range, computed without branches.
            let letter = ((64 - c) & (c - 91)) >> 31     // 'A'...'Z'
            let digit = ((49 - c) & (c - 56)) >> 31      // '2'...'7'
            invalid |= ~(letter | digit)
            let value = ((c - 65) & letter) | ((c - 24) & digit)
            buffer = (buffer << 5) | UInt32(truncatingIfNeeded: value & 31)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        buffer = 0
        if invalid != 0 {
            SecretBytes.wipe(&out)
            return nil
        }
        return out
    }
}

/// CRC-16/XMODEM, the checksum NKEYs append (little-endian) to prefix and key.
enum NATSCRC16 {
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                let mask = 0 &- (crc >> 15)
                crc = (crc << 1) ^ (0x1021 & mask)
            }
        }
        return crc
    }
}

/// Base64url without padding (RFC 4648 §5), as JWTs and the CONNECT `sig` use it.
enum NATSBase64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [alphabet[Int(n >> 18)], alphabet[Int((n >> 12) & 63)], alphabet[Int((n >> 6) & 63)], alphabet[Int(n & 63)]]
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let n = UInt32(bytes[index]) << 16
            out += [alphabet[Int(n >> 18)], alphabet[Int((n >> 12) & 63)]]
        } else if rest == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [alphabet[Int(n >> 18)], alphabet[Int((n >> 12) & 63)], alphabet[Int((n >> 6) & 63)]]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes base64url, with or without padding; nil on any other character or an impossible length.
    static func decode<Text: Collection>(_ text: Text) -> [UInt8]? where Text.Element == UInt8 {
        var symbols = Array(text)
        while symbols.last == UInt8(ascii: "=") { symbols.removeLast() }
        guard symbols.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(symbols.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for c in symbols {
            let value: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(c - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(c - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            buffer = (buffer << 6) | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return out
    }
}
