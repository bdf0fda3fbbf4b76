import Testing
@testable import TributaryNATSProtocol

struct NKeyVector: Sendable, CustomTestStringConvertible {
    let type: NATSNKeyType
    let rawSeedHex: String
    let seed: String
    let publicKey: String
    let nonceSignature: String
    var testDescription: String { "\(type)" }
}

private func bytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        out.append(UInt8(hex[index..<next], radix: 16) ?? 0)
        index = next
    }
    return out
}

@Suite("NKEYs: base32, CRC-16, seeds, public keys, nonce signatures")
struct NATSNKeyTests {
    /// Made once with the PyPI package nkeys 0.2.1 by Tests/Fixtures/nkeys/make_vectors.py (raw
    /// seeds are SHA-256 of the type name; the nonce is `pQq0CH0U2VRfC-w`; signatures are
    /// base64url without padding, as CONNECT carries them).
    static let vectors: [NKeyVector] = [
        NKeyVector(type: .user, rawSeedHex: "04f8996da763b7a969b1028ee3007569eaf3a635486ddab211d512c85b9df8fb",
                   seed: "SUAAJ6EZNWTWHN5JNGYQFDXDAB2WT2XTUY2UQ3O2WII5KEWILOO7R67BBI",
                   publicKey: "UAS62RY6CAN6P7LMPDOANFJSHJDQ6ZHATPC7JYB5USBTQTMORNS7PLLM",
                   nonceSignature: "dUQDo59-qiCMQW_IduR-cBju-YaiF5uJfVlxwzgEysR1ZKwT2mx3uI0NFxLnROvlbvEAc5-AeQn5tagpmpp-AA"),
        NKeyVector(type: .account, rawSeedHex: "9af211329b2fc82e5efe906062c730082819b23fe8394bc435e0b1bf0458eb54",
                   seed: "SAAJV4QRGKNS7SBOL37JAYDCY4YAQKAZWI76QOKLYQ26BMN7ARMOWVBMLI",
                   publicKey: "ACR7MCCLE75RFW4ZPDXBBLAENDOAFC4YS3LOXGLZ5JOKDH2LKJAPC4WH",
                   nonceSignature: "oZma7-2CoPVPEl6w6ifzr9Al_bwtTTM0SIfhlqPnnpV87v66PY_L0t0UvUsVhwzTpaRwvm6M9a4iFx0FfL2JDw"),
        NKeyVector(type: .`operator`, rawSeedHex: "06e55b633481f7bb072957eabcf110c972e86691c3cfedabe088024bffe42f23",
                   seed: "SOAANZK3MM2ID553A4UVP2V46EIMS4XIM2I4HT7NVPQIQASL77SC6I3ROQ",
                   publicKey: "ODHHEG4ST56ITJ6Z427WGZTD3AQNWLJDSMGB7DSUOZJN77CUTZ44ZFZW",
                   nonceSignature: "yc4q8wdSnCSY8-ytv3L8WXUrZT0F9mgBuUcnfTTKtlBE7QcGIGm4eutULSW4l7NXOkKU-M8Y5kKZ-hIx8fmDAA"),
        NKeyVector(type: .server, rawSeedHex: "b3eacd33433b31b5252351032c9b3e7a2e7aa7738d5decdf0dd6c62680853c06",
                   seed: "SNALH2WNGNBTWMNVEURVCAZMTM7HULT2U5ZY2XPM34G5NRRGQCCTYBXRZM",
                   publicKey: "NAHIH5ERKOQVVSOLOSL7P4NZLUWDPRK5NZPSRNDMGNHBALPREMSPIOKQ",
                   nonceSignature: "jJootbsHZ8UHcOgcXhcTYyYnwzPS9qGNoqJxBNebowJ5-vLfzUC5wSqaFU1uyT234nKemZUe7476mmeVG5DcDA"),
        NKeyVector(type: .cluster, rawSeedHex: "164cf1ca8391532e4f239c556c0c19589ae8877cb25ecfaf0b310c6c3713ba1f",
                   seed: "SCABMTHRZKBZCUZOJ4RZYVLMBQMVRGXIQ56LEXWPV4FTCDDMG4J3UH3SBI",
                   publicKey: "CAO5VO2YANVBTADBRBFBDVFSP4EIQ6DODVNCUQVLVTKEMJBZTFIHVKPH",
                   nonceSignature: "Tev7uLE5bSmR1hPz1ITbpyYcT1vXTvuX8nLJJ0p3u3WwUFGWzwqQ5NlgDmZtPMh2-Z8Hdb7oscLLI4Oa3iBdAA"),
    ]
    static let nonce = "pQq0CH0U2VRfC-w"

    @Test(arguments: vectors)
    func seedDecodesToThePublicKeyAndSignsLikeNkeys(_ vector: NKeyVector) throws {
        var pair = try NATSNKeyPair(seed: vector.seed)
        #expect(pair.type == vector.type)
        #expect(pair.publicKey == vector.publicKey)
        #expect(pair.publicKey.first == vector.type.letter)
        #expect(pair.signNonce(Self.nonce) == vector.nonceSignature)
        let raw = try #require(NATSBase64URL.decode(Array(vector.nonceSignature.utf8)))
        #expect(NATSNKey.isValidSignature(raw, for: Array(Self.nonce.utf8), publicKey: vector.publicKey))
        #expect(!NATSNKey.isValidSignature(raw, for: Array("other".utf8), publicKey: vector.publicKey))
        pair.wipe()
        #expect(pair.signNonce(Self.nonce) != vector.nonceSignature, "a wiped key must not sign")
    }

    @Test(arguments: vectors)
    func encodingMatchesNkeys(_ vector: NKeyVector) throws {
        let seed = try NATSNKey.encodeSeed(bytes(vector.rawSeedHex), type: vector.type)
        #expect(String(decoding: seed, as: UTF8.self) == vector.seed)
        let decoded = try NATSNKey.decodePublicKey(vector.publicKey)
        #expect(decoded.type == vector.type)
        #expect(try NATSNKey.encodePublicKey(decoded.key, type: vector.type) == vector.publicKey)
    }

    @Test func crc16IsTheXmodemVariant() {
        #expect(NATSCRC16.checksum(Array("123456789".utf8)) == 0x31C3)
        #expect(NATSCRC16.checksum([]) == 0)
        #expect(NATSCRC16.checksum([UInt8](repeating: 0, count: 33)) == 0)
    }

    @Test func base32MatchesRFC4648WithoutPadding() {
        let cases = ["": "", "f": "MY", "fo": "MZXQ", "foo": "MZXW6", "foob": "MZXW6YQ", "fooba": "MZXW6YTB", "foobar": "MZXW6YTBOI"]
        for (plain, encoded) in cases {
            #expect(String(decoding: NATSBase32.encode(Array(plain.utf8)), as: UTF8.self) == encoded)
            #expect(NATSBase32.decode(Array(encoded.utf8)) == Array(plain.utf8))
        }
        let all = (0..<256).map { UInt8($0) }
        #expect(NATSBase32.decode(NATSBase32.encode(all)) == all)
        // Outside the alphabet: lower case, 0, 1, 8, 9, padding. Impossible lengths.
        for bad in ["mzxw6", "MZXW0", "MZXW1", "MZXW8", "MZXW9", "MZXW6===", "MZX", "M", "MZXW6Y"] {
            #expect(NATSBase32.decode(Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test func base64URLRoundTripsWithoutPadding() {
        for length in 0..<70 {
            let data = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 41 &+ 7) }
            let text = NATSBase64URL.encode(data)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(NATSBase64URL.decode(Array(text.utf8)) == data)
        }
        #expect(NATSBase64URL.decode(Array("a+b/".utf8)) == nil)
    }

    @Test func malformedSeedsGiveTypedErrorsWithoutTheSeed() throws {
        let seed = Self.vectors[0].seed
        func failure(_ text: String) -> NATSError? {
            do {
                _ = try NATSNKeyPair(seed: text)
                return nil
            } catch {
                return error
            }
        }
        var flipped = Array(seed)
        flipped[20] = flipped[20] == "A" ? "B" : "A"
        let cases: [(String, String)] = [
            (String(seed.dropLast(3)), "58 base32 characters"),
            (seed + "AAA", "58 base32 characters"),
            (seed.lowercased(), "not an NKEY seed"),
            (String(seed.dropLast(2)) + "01", "base32 alphabet"),
            (String(flipped), "checksum"),
            (Self.vectors[0].publicKey, "public key, not a seed"),
            ("", "58 base32 characters"),
        ]
        for (text, expected) in cases {
            let error = try #require(failure(text), "accepted: \(expected)")
            #expect(error.code == .invalidCredentials)
            #expect(error.message.contains(expected), "\(error.message)")
            #expect(!error.description.contains(seed) && !error.description.contains(String(seed.dropLast(3))))
        }
        // Whitespace around a seed is ignored.
        #expect(try NATSNKeyPair(seed: "  \(seed)\r\n").publicKey == Self.vectors[0].publicKey)
    }

    @Test func onlyUserSeedsMayConnect() throws {
        var account = Array(Self.vectors[1].seed.utf8)
        do {
            _ = try NATSCredentialsFile.userKeyPair(&account, what: "the seed")
            Issue.record("an account seed was accepted for connecting")
        } catch {
            #expect(error.code == .invalidCredentials)
            #expect(error.message.contains("account seed ('SA…')"), "\(error.message)")
        }
        #expect(account.allSatisfy { $0 == 0 }, "the seed text must be wiped")
        var user = Array(Self.vectors[0].seed.utf8)
        #expect(try NATSCredentialsFile.userKeyPair(&user, what: "the seed").publicKey == Self.vectors[0].publicKey)
        #expect(user.allSatisfy { $0 == 0 })
    }

    @Test func publicKeysAreValidated() {
        #expect(throws: NATSError.self) { try NATSNKey.decodePublicKey(String(Self.vectors[0].publicKey.dropLast())) }
        #expect(throws: NATSError.self) { try NATSNKey.decodePublicKey(Self.vectors[0].seed) }
        var changed = Array(Self.vectors[0].publicKey)
        changed[9] = changed[9] == "A" ? "B" : "A"
        #expect(throws: NATSError.self) { try NATSNKey.decodePublicKey(String(changed)) }
    }
}
