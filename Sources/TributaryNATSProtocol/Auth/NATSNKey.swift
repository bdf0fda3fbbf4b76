import TributaryCrypto

/// Encoding and decoding of NKEY public keys and seeds (the format of the nkeys library).
public enum NATSNKey {
    /// The seed prefix byte: base32 `S`.
    static let seedPrefixByte: UInt8 = 18 << 3
    /// Length of an encoded seed: 2 prefix bytes + 32 + CRC = 36 bytes = 58 characters.
    public static let seedLength = 58
    /// Length of an encoded public key: 1 prefix byte + 32 + CRC = 35 bytes = 56 characters.
    public static let publicKeyLength = 56

    /// The text of a 32-byte public key of `type` (`U…` for a user).
    ///
    /// - Throws: `.invalidCredentials` unless `key` is 32 bytes.
    public static func encodePublicKey(_ key: [UInt8], type: NATSNKeyType) throws(NATSError) -> String {
        guard key.count == 32 else {
            throw NATSError(.invalidCredentials, "an NKEY public key is 32 bytes, not \(key.count)")
        }
        var raw = [type.prefixByte] + key
        let crc = NATSCRC16.checksum(raw)
        raw += [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8)]
        return String(decoding: NATSBase32.encode(raw), as: UTF8.self)
    }

    /// The text of a seed of `type` from its 32 raw bytes (`SU…` for a user). The returned text
    /// is a secret; the caller owns it.
    ///
    /// - Throws: `.invalidCredentials` unless `seed` is 32 bytes.
    public static func encodeSeed(_ seed: [UInt8], type: NATSNKeyType) throws(NATSError) -> [UInt8] {
        guard seed.count == 32 else {
            throw NATSError(.invalidCredentials, "an NKEY seed holds 32 bytes, not \(seed.count)")
        }
        var raw = [seedPrefixByte | (type.prefixByte >> 5), (type.prefixByte & 31) << 3] + seed
        let crc = NATSCRC16.checksum(raw)
        raw += [UInt8(truncatingIfNeeded: crc), UInt8(truncatingIfNeeded: crc >> 8)]
        let text = NATSBase32.encode(raw)
        SecretBytes.wipe(&raw)
        return text
    }

    /// The type and 32 key bytes of a public key such as `UD…`.
    ///
    /// - Throws: `.invalidCredentials` saying what is wrong (length, alphabet, checksum, prefix).
    public static func decodePublicKey(_ text: String) throws(NATSError) -> (type: NATSNKeyType, key: [UInt8]) {
        let characters = Array(text.utf8)
        if characters.first == UInt8(ascii: "S") {
            throw NATSError(.invalidCredentials, "expected an NKEY public key, found a seed (it starts with 'S'); give the public key (U…, A…, O…) instead and keep the seed secret")
        }
        guard characters.count == publicKeyLength else {
            throw NATSError(.invalidCredentials, "an NKEY public key is \(publicKeyLength) base32 characters; '\(text)' has \(characters.count)")
        }
        guard let raw = NATSBase32.decode(characters) else {
            throw NATSError(.invalidCredentials, "NKEY public key '\(text)' has characters outside the base32 alphabet (A-Z, 2-7)")
        }
        guard checksumMatches(raw) else {
            throw NATSError(.invalidCredentials, "NKEY public key '\(text)' has a wrong checksum: it is mistyped or truncated")
        }
        guard let type = NATSNKeyType(prefixByte: raw[0]) else {
            throw NATSError(.invalidCredentials, "'\(text)' is not an NKEY public key (unknown prefix '\(text.prefix(1))')")
        }
        return (type, Array(raw[1..<33]))
    }

    /// A raw 64-byte signature as CONNECT's `sig` carries it: base64url without padding.
    public static func encodeSignature(_ signature: [UInt8]) -> String {
        NATSBase64URL.encode(signature)
    }

    /// Whether `signature` is the signature of `message` by the key `publicKey` (`U…` text).
    public static func isValidSignature(_ signature: [UInt8], for message: [UInt8], publicKey: String) -> Bool {
        guard let decoded = try? decodePublicKey(publicKey) else { return false }
        return Ed25519.isValidSignature(signature, for: message, publicKey: decoded.key)
    }

    /// True when the last two bytes are the CRC-16 (little-endian) of the others.
    static func checksumMatches(_ raw: [UInt8]) -> Bool {
        guard raw.count >= 4 else { return false }
        let body = Array(raw[..<(raw.count - 2)])
        let crc = NATSCRC16.checksum(body)
        let stored = UInt16(raw[raw.count - 2]) | UInt16(raw[raw.count - 1]) << 8
        return crc == stored
    }

    /// Decodes seed text into its type and 32 raw bytes. Errors never quote the text.
    static func decodeSeed(_ characters: [UInt8]) throws(NATSError) -> (type: NATSNKeyType, seed: [UInt8]) {
        if let first = characters.first, first != UInt8(ascii: "S") {
            if [UInt8(ascii: "U"), UInt8(ascii: "A"), UInt8(ascii: "O"), UInt8(ascii: "N"), UInt8(ascii: "C")].contains(first),
               characters.count == publicKeyLength {
                throw NATSError(.invalidCredentials, "this is an NKEY public key, not a seed: a seed starts with 'S' (a user seed with 'SU'); the public key alone cannot sign")
            }
            throw NATSError(.invalidCredentials, "this is not an NKEY seed: a seed starts with 'S' (a user seed with 'SU')")
        }
        guard characters.count == seedLength else {
            throw NATSError(.invalidCredentials, "an NKEY seed is \(seedLength) base32 characters; this one has \(characters.count): it is truncated or has extra characters")
        }
        guard var raw = NATSBase32.decode(characters) else {
            throw NATSError(.invalidCredentials, "the NKEY seed has characters outside the base32 alphabet (A-Z, 2-7); check that it was copied whole and in upper case")
        }
        defer { SecretBytes.wipe(&raw) }
        guard checksumMatches(raw) else {
            throw NATSError(.invalidCredentials, "the NKEY seed's checksum does not match: it is mistyped or truncated")
        }
        guard raw[0] & 248 == seedPrefixByte else {
            throw NATSError(.invalidCredentials, "this is not an NKEY seed (wrong prefix); a seed starts with 'S'")
        }
        let typeByte = (raw[0] & 7) << 5 | (raw[1] & 248) >> 3
        guard let type = NATSNKeyType(prefixByte: typeByte) else {
            throw NATSError(.invalidCredentials, "the NKEY seed has an unknown key type; expected a user seed ('SU…')")
        }
        return (type, Array(raw[2..<34]))
    }
}
