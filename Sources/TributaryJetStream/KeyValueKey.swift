/// A rule a key-value key breaks (ADR-8: keys are subject tokens from `-/_=.a-zA-Z0-9`).
public enum KeyValueKeyRule: Sendable, Hashable, CustomStringConvertible {
    /// The key is empty.
    case empty
    /// The key starts with `.`.
    case leadingDot
    /// The key ends with `.`.
    case trailingDot
    /// The key has two dots in a row (an empty subject token).
    case emptyToken
    /// The key contains a character outside `A-Z a-z 0-9 - / _ = .` (the character is given).
    case invalidCharacter(Character)
    /// A watch or keys filter uses `>` somewhere other than as the whole last token, or `*`
    /// inside a token.
    case misplacedWildcard

    /// What the rule says, and what to do.
    public var description: String {
        switch self {
        case .empty: return "a key may not be empty"
        case .leadingDot: return "a key may not start with '.'"
        case .trailingDot: return "a key may not end with '.'"
        case .emptyToken: return "a key may not contain '..' (an empty token)"
        case .invalidCharacter(let character):
            let shown = character.isWhitespace || character.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
                ? "U+" + String(character.unicodeScalars.first?.value ?? 0, radix: 16, uppercase: true) : "'\(character)'"
            return "a key may contain only letters, digits and '-', '/', '_', '=', '.'; found \(shown)"
        case .misplacedWildcard: return "in a filter, '*' must be a whole token and '>' the whole last token"
        }
    }
}

/// A rule a bucket name breaks (ADR-8: `A-Z a-z 0-9 _ -`).
public enum KeyValueBucketNameRule: Sendable, Hashable, CustomStringConvertible {
    /// The name is empty.
    case empty
    /// The name contains a character outside `A-Z a-z 0-9 _ -` (the character is given).
    case invalidCharacter(Character)

    /// What the rule says.
    public var description: String {
        switch self {
        case .empty: return "a bucket name may not be empty"
        case .invalidCharacter(let character):
            return "a bucket name may contain only letters, digits, '_' and '-'; found '\(character.isWhitespace ? "whitespace" : String(character))'"
        }
    }
}

/// Key and bucket-name checks, done before anything is sent.
enum KeyValueNames {
    private static func isKeyCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return true
        case UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: "_"), UInt8(ascii: "="), UInt8(ascii: "."): return true
        default: return false
        }
    }

    /// The rule `key` breaks, or nil when it is valid. With `allowWildcards`, `*` may be a whole
    /// token and `>` the whole last token (watch and keys filters).
    static func keyProblem(_ key: String, allowWildcards: Bool = false) -> KeyValueKeyRule? {
        // Fast path on the bytes (every call of a read or write comes here); the slow path
        // below only names the rule.
        var previous: UInt8 = UInt8(ascii: ".")
        var clean = !key.isEmpty
        for byte in key.utf8 {
            if byte == UInt8(ascii: ".") {
                if previous == UInt8(ascii: ".") { clean = false; break }
            } else if !isKeyCharacter(byte) {
                clean = false
                break
            }
            previous = byte
        }
        if clean, previous != UInt8(ascii: ".") { return nil }
        if key.isEmpty { return .empty }
        if key.hasPrefix(".") { return .leadingDot }
        if key.hasSuffix(".") { return .trailingDot }
        let tokens = key.split(separator: ".", omittingEmptySubsequences: false)
        for (index, token) in tokens.enumerated() {
            if token.isEmpty { return .emptyToken }
            if allowWildcards, token == "*" { continue }
            if allowWildcards, token == ">" {
                if index == tokens.count - 1 { continue }
                return .misplacedWildcard
            }
            for character in token {
                if allowWildcards, character == "*" || character == ">" { return .misplacedWildcard }
                guard let ascii = character.asciiValue, isKeyCharacter(ascii) else { return .invalidCharacter(character) }
            }
        }
        return nil
    }

    /// Throws `.invalidKey` naming the rule when `key` is invalid.
    static func validateKey(_ key: String, bucket: String, allowWildcards: Bool = false) throws(KeyValueError) {
        if let rule = keyProblem(key, allowWildcards: allowWildcards) {
            throw KeyValueError(.invalidKey, "invalid \(allowWildcards ? "key filter" : "key") '\(key.count > 64 ? String(key.prefix(64)) + "…" : key)' for bucket '\(bucket)': \(rule); choose a key that follows the rule",
                                bucket: bucket, key: key, keyRule: rule)
        }
    }

    /// The rule `bucket` breaks, or nil when it is valid.
    static func bucketProblem(_ bucket: String) -> KeyValueBucketNameRule? {
        if bucket.isEmpty { return .empty }
        for character in bucket {
            guard let ascii = character.asciiValue else { return .invalidCharacter(character) }
            switch ascii {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                return .invalidCharacter(character)
            }
        }
        return nil
    }

    /// Throws `.invalidBucketName` naming the rule when `bucket` is invalid.
    static func validateBucket(_ bucket: String) throws(KeyValueError) {
        if let rule = bucketProblem(bucket) {
            throw KeyValueError(.invalidBucketName, "invalid bucket name '\(bucket)': \(rule); choose a name that follows the rule",
                                bucket: bucket, bucketRule: rule)
        }
    }

    /// The stream of a bucket: `KV_<bucket>`.
    static func streamName(_ bucket: String) -> String { "KV_" + bucket }
    /// The subject prefix of a bucket's keys: `$KV.<bucket>.`.
    static func subjectPrefix(_ bucket: String) -> String { "$KV." + bucket + "." }
}
