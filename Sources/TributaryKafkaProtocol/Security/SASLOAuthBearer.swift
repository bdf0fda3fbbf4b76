/// The SASL OAUTHBEARER mechanism (RFC 7628) as Kafka uses it (KIP-255, extensions KIP-342):
/// the client sends a bearer token once; the broker answers an empty token on success, or an
/// error JSON document (RFC 7628 §3.2.2) that the client acknowledges with a single `%x01`
/// before the broker fails the exchange.
///
/// ```
/// client-resp = gs2-header kvsep "auth=Bearer " token kvsep *(key "=" value kvsep) kvsep
/// gs2-header  = "n,,"            ; no channel binding, no authorization identity
/// kvsep       = %x01
/// ```
public enum SASLOAuthBearer {
    /// The mechanism name, as sent in SaslHandshake.
    public static let name = "OAUTHBEARER"

    /// The separator between key-value pairs, and the client's whole answer to an error
    /// challenge (RFC 7628 §3.2.3).
    public static let separator: UInt8 = 0x01

    /// The client's initial (and only) message: the GS2 header, `auth=Bearer <token>`, then each
    /// extension as `key=value`, sorted by key so the bytes are deterministic.
    ///
    /// - Throws: ``SASLError`` `invalidInput` for an empty token or one with characters outside
    ///   RFC 6750's `b64token`, an extension key that is not `1*ALPHA` or is `auth` (RFC 7628
    ///   §3.1 reserves it), or a value with characters outside `VCHAR / SP / HTAB / CR / LF`.
    ///   The message names the key, never the token or a value.
    public static func initialResponse(token: String, extensions: [String: String]) throws(SASLError) -> [UInt8] {
        try validate(token: token)
        try validate(extensions: extensions)
        var message = Array("n,,".utf8)
        message.append(separator)
        message += Array("auth=Bearer ".utf8)
        message += Array(token.utf8)
        message.append(separator)
        for key in extensions.keys.sorted() {
            message += Array(key.utf8)
            message.append(UInt8(ascii: "="))
            message += Array((extensions[key] ?? "").utf8)
            message.append(separator)
        }
        message.append(separator)
        return message
    }

    /// Checks a bearer token against RFC 6750's `b64token`:
    /// `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
    ///
    /// - Throws: ``SASLError`` `invalidInput` without quoting the token.
    public static func validate(token: String) throws(SASLError) {
        let bytes = Array(token.utf8)
        guard !bytes.isEmpty else { throw .invalidInput("the OAUTHBEARER token is empty") }
        var padding = false
        for byte in bytes {
            if byte == UInt8(ascii: "=") {
                padding = true
                continue
            }
            let allowed = isAlpha(byte) || (0x30...0x39).contains(byte) || "-._~+/".utf8.contains(byte)
            guard allowed, !padding else {
                throw .invalidInput("the OAUTHBEARER token (\(bytes.count) bytes) has a character outside RFC 6750's b64token alphabet (letters, digits, - . _ ~ + / and trailing =); pass the token as issued, without a \"Bearer \" prefix or whitespace")
            }
        }
    }

    /// Checks SASL extensions (RFC 7628 §3.1): keys `1*ALPHA` other than `auth`, values of
    /// `VCHAR / SP / HTAB / CR / LF`.
    ///
    /// - Throws: ``SASLError`` `invalidInput` naming the key (never the value).
    public static func validate(extensions: [String: String]) throws(SASLError) {
        for key in extensions.keys.sorted() {
            let keyBytes = Array(key.utf8)
            guard !keyBytes.isEmpty, keyBytes.allSatisfy(isAlpha) else {
                throw .invalidInput("the OAUTHBEARER extension key '\(printable(key))' must be one or more ASCII letters (RFC 7628)")
            }
            guard key != "auth" else {
                throw .invalidInput("the OAUTHBEARER extension key 'auth' is reserved for the token (RFC 7628); rename the extension")
            }
            let valueBytes = Array((extensions[key] ?? "").utf8)
            guard valueBytes.allSatisfy({ (0x21...0x7E).contains($0) || $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A }) else {
                throw .invalidInput("the value of OAUTHBEARER extension '\(key)' has a character outside visible ASCII, space, tab, CR and LF (RFC 7628)")
            }
        }
    }

    /// The `status` of a server's error challenge (RFC 7628 §3.2.2, for example
    /// `invalid_token`), or nil when the challenge is not a JSON object with a string `status`.
    /// The value is cut to 64 characters and stripped of anything but printable ASCII, so it is
    /// safe to put in an error message.
    public static func status(ofChallenge challenge: [UInt8]) -> String? {
        var scanner = JSONScanner(bytes: challenge)
        return scanner.stringMember("status").map { value in
            String(String.UnicodeScalarView(value.unicodeScalars.filter { (0x20...0x7E).contains($0.value) }.prefix(64)))
        }
    }

    private static func isAlpha(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }

    /// `text` with anything but printable ASCII replaced by `?`, cut to 32 characters.
    private static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(32).map { (0x20...0x7E).contains($0.value) ? $0 : "?" }))
    }
}

/// Just enough JSON to read one top-level string member of an object, bounded by the input.
private struct JSONScanner {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// The value of the top-level member `name` if it is a string; nil for anything else.
    mutating func stringMember(_ name: String) -> String? {
        skipSpace()
        guard take(UInt8(ascii: "{")) else { return nil }
        skipSpace()
        if take(UInt8(ascii: "}")) { return nil }
        while index < bytes.count {
            skipSpace()
            guard let key = string() else { return nil }
            skipSpace()
            guard take(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            if key == name { return string() }
            guard skipValue() else { return nil }
            skipSpace()
            if take(UInt8(ascii: ",")) { continue }
            return nil
        }
        return nil
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    /// A JSON string; escapes other than `\"` and `\\` are kept as their letter.
    private mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        var value: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: value, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                value.append(bytes[index])
                index += 1
            default:
                value.append(byte)
            }
        }
        return nil
    }

    /// Skips one value (string, number, literal, or a nested array/object by bracket depth).
    private mutating func skipValue() -> Bool {
        guard index < bytes.count else { return false }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            return string() != nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard string() != nil else { return false }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                default:
                    break
                }
                index += 1
                if depth == 0 { return true }
            }
            return false
        default:
            while index < bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), 0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
            return true
        }
    }
}
