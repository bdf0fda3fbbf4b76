/// Ed25519 signatures (RFC 8032 §5.1), as NATS NKEYs use them.
///
/// Written from the RFC in plain Swift. Key derivation and signing take secret-independent time:
/// the scalar multiplication is a ladder with masked swaps, field arithmetic has no data-dependent
/// branches or table lookups, and reduction modulo the group order subtracts under a mask.
/// Verification works on public data only and is not constant-time.
public enum Ed25519 {
    /// Size of a seed (the private key as RFC 8032 defines it): 32 bytes.
    public static let seedSize = 32
    /// Size of a public key: 32 bytes.
    public static let publicKeySize = 32
    /// Size of a signature: 64 bytes.
    public static let signatureSize = 64

    /// A signing key derived from a 32-byte seed.
    ///
    /// Holds the secret scalar and hash prefix derived from the seed (not the seed itself).
    /// Call `wipe()` when done; copies of the value share storage until one of them is changed.
    public struct SigningKey: Sendable {
        private var scalar: [UInt8]
        private var prefix: [UInt8]
        /// The 32-byte public key.
        public let publicKey: [UInt8]

        /// Derives the key from `seed`; nil unless it is exactly 32 bytes.
        public init?(seed: [UInt8]) {
            guard seed.count == Ed25519.seedSize else { return nil }
            var digest = SHA512.hash(seed)
            var s = Array(digest[0..<32])
            s[0] &= 248
            s[31] &= 127
            s[31] |= 64
            scalar = s
            prefix = Array(digest[32..<64])
            publicKey = Ed25519Point.base.multiplied(bySecret: s).encoded()
            SecretBytes.wipe(&digest)
            SecretBytes.wipe(&s)
        }

        /// The 64-byte signature of `message` (deterministic: the same message gives the same signature).
        public func signature(for message: [UInt8]) -> [UInt8] {
            var hasher = SHA512()
            hasher.update(prefix)
            hasher.update(message)
            var nonceDigest = hasher.finalize()
            var r = Ed25519Scalar.reduce(nonceDigest)
            SecretBytes.wipe(&nonceDigest)
            let encodedR = Ed25519Point.base.multiplied(bySecret: r).encoded()
            var challenge = SHA512()
            challenge.update(encodedR)
            challenge.update(publicKey)
            challenge.update(message)
            let k = Ed25519Scalar.reduce(challenge.finalize())
            let s = Ed25519Scalar.multiplyAdd(k, scalar, r)
            SecretBytes.wipe(&r)
            return encodedR + s
        }

        /// Overwrites the secret scalar and prefix with zeros; the key cannot sign afterwards
        /// (its signatures no longer verify).
        public mutating func wipe() {
            SecretBytes.wipe(&scalar)
            SecretBytes.wipe(&prefix)
        }
    }

    /// Whether `signature` is a valid signature of `message` by `publicKey`.
    ///
    /// Rejects signatures and keys of the wrong size, an S that is not below the group order
    /// (non-canonical, RFC 8032 §5.1.7), public keys that are not canonical curve points, and an
    /// R that does not equal the encoding of [S]B - [k]A (the cofactorless check Go's
    /// `crypto/ed25519`, which nats-server uses, performs).
    public static func isValidSignature(_ signature: [UInt8], for message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == signatureSize, publicKey.count == publicKeySize else { return false }
        let encodedR = Array(signature[0..<32])
        let s = Array(signature[32..<64])
        guard Ed25519Scalar.isCanonical(s), let pointA = Ed25519Point(decoding: publicKey) else { return false }
        var challenge = SHA512()
        challenge.update(encodedR)
        challenge.update(publicKey)
        challenge.update(message)
        let k = Ed25519Scalar.reduce(challenge.finalize())
        let check = Ed25519Point.publicDoubleMultiply(s, .base, k, pointA.negated())
        return check.encoded() == encodedR
    }
}
