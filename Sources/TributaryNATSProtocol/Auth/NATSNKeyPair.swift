import TributaryCrypto

/// An NKEY key pair from a seed: its public key (`U…`) and signing.
///
/// Holds the derived Ed25519 signing key, not the seed text. Call `wipe()` once done with it.
public struct NATSNKeyPair: Sendable, CustomStringConvertible {
    /// The key's type (`.user` for client authentication).
    public let type: NATSNKeyType
    /// The public key as text (`U…` for a user): what nats-server's config and JWTs name.
    public let publicKey: String
    private var signingKey: Ed25519.SigningKey

    /// Decodes `seed` (`SU…`, 58 characters; surrounding whitespace is ignored).
    ///
    /// - Throws: `.invalidCredentials` saying what is wrong with it; the message never contains the seed.
    public init(seed: String) throws(NATSError) {
        var characters = Array(seed.utf8)
        try self.init(seedCharacters: &characters)
    }

    /// Decodes the seed text in `seedCharacters` (ASCII) and overwrites it with zeros, whether or
    /// not it was valid.
    ///
    /// - Throws: `.invalidCredentials` saying what is wrong with it; the message never contains the seed.
    public init(seedCharacters: inout [UInt8]) throws(NATSError) {
        defer { SecretBytes.wipe(&seedCharacters) }
        var start = 0
        var end = seedCharacters.count
        while start < end, Self.isSpace(seedCharacters[start]) { start += 1 }
        while end > start, Self.isSpace(seedCharacters[end - 1]) { end -= 1 }
        var trimmed = Array(seedCharacters[start..<end])
        defer { SecretBytes.wipe(&trimmed) }
        let decoded = try NATSNKey.decodeSeed(trimmed)
        let type = decoded.type
        var raw = decoded.seed
        defer { SecretBytes.wipe(&raw) }
        guard type != .curve else {
            throw NATSError(.invalidCredentials, "this is a curve (xkey) seed ('SX…'), which encrypts but cannot sign; use a user seed ('SU…')")
        }
        guard let key = Ed25519.SigningKey(seed: raw) else {
            throw NATSError(.invalidCredentials, "the NKEY seed does not hold 32 key bytes")
        }
        self.type = type
        self.signingKey = key
        // Cannot fail: the key is 32 bytes.
        self.publicKey = (try? NATSNKey.encodePublicKey(key.publicKey, type: type)) ?? ""
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// The 64-byte Ed25519 signature of `message`.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        signingKey.signature(for: message)
    }

    /// The CONNECT `sig` for a server nonce: the signature of the nonce's bytes as the server
    /// sent them, in base64url without padding (what nats.go sends and nats-server expects).
    public func signNonce(_ nonce: String) -> String {
        NATSBase64URL.encode(sign(Array(nonce.utf8)))
    }

    /// Whether `signature` is this key's signature of `message`.
    public func verify(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        Ed25519.isValidSignature(signature, for: message, publicKey: signingKey.publicKey)
    }

    /// Overwrites the secret key material; the pair cannot sign afterwards.
    public mutating func wipe() {
        signingKey.wipe()
    }

    /// The type and public key only.
    public var description: String { "NATSNKeyPair(\(type) \(publicKey))" }
}
