/// The role of an NKEY, shown by the first letter of its public key.
///
/// Public keys are one prefix byte, 32 key bytes and a CRC-16 (little-endian), in base32:
/// `U…` users, `A…` accounts, `O…` operators, `N…` servers, `C…` clusters, `X…` curve keys.
/// Seeds start with `S` followed by the letter of their type (`SU…` is a user seed).
public enum NATSNKeyType: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case user
    case account
    case `operator`
    case server
    case cluster
    /// An X25519 key for encryption (xkeys); it signs nothing.
    case curve

    /// The prefix byte (the type's letter in base32, shifted into the top five bits).
    var prefixByte: UInt8 {
        switch self {
        case .user: return 20 << 3
        case .account: return 0
        case .operator: return 14 << 3
        case .server: return 13 << 3
        case .cluster: return 2 << 3
        case .curve: return 23 << 3
        }
    }

    init?(prefixByte: UInt8) {
        guard let type = Self.allCases.first(where: { $0.prefixByte == prefixByte }) else { return nil }
        self = type
    }

    /// The first letter of public keys of this type (`U` for users).
    public var letter: Character {
        switch self {
        case .user: return "U"
        case .account: return "A"
        case .operator: return "O"
        case .server: return "N"
        case .cluster: return "C"
        case .curve: return "X"
        }
    }

    /// "user", "account", "operator", "server", "cluster" or "curve".
    public var description: String {
        switch self {
        case .user: return "user"
        case .account: return "account"
        case .operator: return "operator"
        case .server: return "server"
        case .cluster: return "cluster"
        case .curve: return "curve"
        }
    }
}
