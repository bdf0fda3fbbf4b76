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
    /// Checks a subject: non-empty, no whitespace, no empty tokens.
    ///
    /// - Parameter forSubscription: when true, `*` and `>` must also be whole tokens and `>` must be last.
    @inlinable
    public static func subjectProblem(_ subject: String, forSubscription: Bool = false) -> NATSNameProblem? {
        let problem = subject.utf8.withContiguousStorageIfAvailable { bytes in
            scan(UnsafeRawBufferPointer(bytes), forSubscription: forSubscription)
        }
        let found = problem ?? Array(subject.utf8).withUnsafeBytes { scan($0, forSubscription: forSubscription) }
        if case .misplacedWildcard? = found { return wildcardPlacementProblem(subject) }
        return found
    }

    /// The byte scan of ``subjectProblem(_:forSubscription:)``: `.misplacedWildcard` stands for
    /// "a subscription subject with a wildcard, check the placement".
    @usableFromInline
    static func scan(_ bytes: UnsafeRawBufferPointer, forSubscription: Bool) -> NATSNameProblem? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .empty }
        let count = bytes.count
        var tokenLength = 0
        var sawWildcard = false
        var offset = 0
        while offset < count {
            let byte = base.load(fromByteOffset: offset, as: UInt8.self)
            offset &+= 1
            // Common case first: an ordinary character (wildcards count as ordinary here).
            if byte > 0x2E {
                tokenLength &+= 1
                if byte == 0x3E { sawWildcard = true }
                continue
            }
            switch byte {
            case 0x2E:
                if tokenLength == 0 { return .emptyToken }
                tokenLength = 0
            case 0x20, 0x09, 0x0D, 0x0A:
                return .whitespace(offset: offset &- 1)
            case 0x2A:
                tokenLength &+= 1
                sawWildcard = true
            default:
                tokenLength &+= 1
            }
        }
        if tokenLength == 0 { return .emptyToken }
        if forSubscription && sawWildcard { return .misplacedWildcard }
        return nil
    }

    /// Checks that wildcards are whole tokens and `>` is the last token.
    @usableFromInline
    static func wildcardPlacementProblem(_ subject: String) -> NATSNameProblem? {
        let tokens = subject.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        for (index, token) in tokens.enumerated() {
            let hasWildcard = token.contains(UInt8(ascii: "*")) || token.contains(UInt8(ascii: ">"))
            if hasWildcard && token.count != 1 { return .misplacedWildcard }
            if token.first == UInt8(ascii: ">") && index != tokens.count - 1 { return .misplacedWildcard }
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
