/// Why a subject or queue name was rejected before anything was sent.
public enum NATSNameProblem: Sendable, Hashable, CustomStringConvertible {
    /// The name is empty.
    case empty
    /// The name contains a space, tab, CR or LF at this byte offset.
    case whitespace(offset: Int)
    /// The subject has an empty token (leading, trailing or double dot).
    case emptyToken
    /// A wildcard is not a whole token, or `>` is not the last token.
    case misplacedWildcard
    /// A header name or value contains a forbidden character.
    case invalidHeader(String)

    public var description: String {
        switch self {
        case .empty: return "it is empty"
        case .whitespace(let offset): return "it contains whitespace at byte \(offset)"
        case .emptyToken: return "it has an empty token (leading, trailing or double '.')"
        case .misplacedWildcard: return "a wildcard ('*' or '>') must be a whole token and '>' must be the last token"
        case .invalidHeader(let why): return why
        }
    }
}

/// Client-side checks run before a frame is written.
public enum NATSValidation {
    /// Checks a subject for publishing (`allowWildcards: false` also rejects misplaced wildcards only for subscriptions).
    ///
    /// - Parameter forSubscription: when true, `*` and `>` must be whole tokens and `>` must be last.
    @inlinable
    public static func subjectProblem(_ subject: String, forSubscription: Bool = false) -> NATSNameProblem? {
        var subject = subject
        return subject.withUTF8 { bytes -> NATSNameProblem? in
            if bytes.isEmpty { return .empty }
            var tokenStart = 0
            var tokenLength = 0
            var sawFullWildcard = false
            for index in 0..<bytes.count {
                let byte = bytes[index]
                // Fast path: ordinary subject characters (wildcards are checked per token below).
                if byte > 0x20 && byte != 0x2E {
                    tokenLength += 1
                    continue
                }
                switch byte {
                case 0x20, 0x09, 0x0D, 0x0A:
                    return .whitespace(offset: index)
                case UInt8(ascii: "."):
                    if tokenLength == 0 { return .emptyToken }
                    if forSubscription {
                        if sawFullWildcard { return .misplacedWildcard }
                        if let problem = wildcardProblem(bytes, start: tokenStart, length: tokenLength, sawFull: &sawFullWildcard) { return problem }
                    }
                    tokenStart = index + 1
                    tokenLength = 0
                default:
                    tokenLength += 1
                }
            }
            if tokenLength == 0 { return .emptyToken }
            if forSubscription {
                if sawFullWildcard { return .misplacedWildcard }
                return wildcardProblem(bytes, start: tokenStart, length: tokenLength, sawFull: &sawFullWildcard)
            }
            return nil
        }
    }

    @usableFromInline
    static func wildcardProblem(_ bytes: UnsafeBufferPointer<UInt8>, start: Int, length: Int, sawFull: inout Bool) -> NATSNameProblem? {
        for index in start..<(start + length) where bytes[index] == UInt8(ascii: "*") || bytes[index] == UInt8(ascii: ">") {
            if length != 1 { return .misplacedWildcard }
            if bytes[index] == UInt8(ascii: ">") { sawFull = true }
        }
        return nil
    }

    /// Checks a queue group name: non-empty, no whitespace.
    public static func queueProblem(_ queue: String) -> NATSNameProblem? {
        if queue.isEmpty { return .empty }
        for (offset, byte) in queue.utf8.enumerated() where byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A {
            return .whitespace(offset: offset)
        }
        return nil
    }
}
