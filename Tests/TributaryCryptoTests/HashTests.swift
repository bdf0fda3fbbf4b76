import Testing
import TributaryCrypto

private func hex(_ bytes: [UInt8]) -> String {
    bytes.map { b in let s = String(b, radix: 16); return s.count == 1 ? "0" + s : s }.joined()
}

@Suite("SHA-2, HMAC and PBKDF2 against published vectors")
struct HashTests {
    // FIPS 180-4 examples (NIST CSRC example values).
    @Test func sha256Vectors() {
        #expect(hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(SHA256.hash([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(hex(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    // NIST CAVS 11.0 SHAVS vectors: SHA256ShortMsg.rsp (Len 8, 16, 24, 448, 504, 512) and
    // SHA256LongMsg.rsp (Len 1304), each hashed in one call and byte by byte.
    static let cavsVectors: [(message: String, digest: String)] = [
        ("d3", "28969cdfa74a12c82f3bad960b0b000aca2ac329deea5c2328ebc6f2ba9802c1"),
        ("11af", "5ca7133fa735326081558ac312c620eeca9970d1e70a4b95533d956f072d1f98"),
        ("b4190e", "dff2e73091f6c05e528896c4c831b9448653dc2ff043528f6769437bc7b975c2"),
        ("2d52447d1244d2ebc28650e7b05654bad35b3a68eedc7f8515306b496d75f3e73385dd1b002625024b81a02f2fd6dffb6e6d561cb7d0bd7a",
         "cfb88d6faf2de3a69d36195acec2e255e2af2b7d933997f348e09f6ce5758360"),
        ("e2f76e97606a872e317439f1a03fcd92e632e5bd4e7cbc4e97f1afc19a16fde92d77cbe546416b51640cddb92af996534dfd81edb17c4424cf1ac4d75aceeb",
         "18041bd4665083001fba8c5411d2d748e8abbfdcdfd9218cb02b68a78e7d4c23"),
        ("5a86b737eaea8ee976a0a24da63e7ed7eefad18a101c1211e2b3650c5187c2a8a650547208251f6d4237e661c7bf4c77f335390394c37fa1a9f9be836ac28509",
         "42e61e174fbb3897d6dd6cef3dd2802fe67b331953b06114a65c772859dfc1aa"),
        ("451101250ec6f26652249d59dc974b7361d571a8101cdfd36aba3b5854d3ae086b5fdd4597721b66e3c0dc5d8c606d9657d0e323283a5217d1f53f2f284f57b85c8a61ac8924711f895c5ed90ef17745ed2d728abd22a5f7a13479a462d71b56c19a74a40b655c58edfe0a188ad2cf46cbf30524f65d423c837dd1ff2bf462ac4198007345bb44dbb7b1c861298cdf61982a833afc728fae1eda2f87aa2c9480858bec",
         "3c593aa539fdcdae516cdf2f15000f6634185c88f505b39775fb9ab137a10aa2"),
    ]

    @Test func sha256NISTShortAndLongMessageVectors() {
        for (message, digest) in Self.cavsVectors {
            var bytes: [UInt8] = []
            var index = message.startIndex
            while index < message.endIndex {
                let next = message.index(index, offsetBy: 2)
                bytes.append(UInt8(message[index..<next], radix: 16) ?? 0)
                index = next
            }
            #expect(bytes.count * 2 == message.count)
            #expect(hex(SHA256.hash(bytes)) == digest, "Len = \(bytes.count * 8)")
            var incremental = SHA256()
            for byte in bytes { incremental.update([byte]) }
            #expect(hex(incremental.finalize()) == digest, "Len = \(bytes.count * 8), byte by byte")
        }
    }

    @Test func sha256InstructionsAndPortableCodeAgree() {
        // Lengths around the block size and runs of many blocks, fed whole and in odd pieces.
        var seed: UInt64 = 0x5EED
        func next() -> UInt8 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: seed >> 56)
        }
        let data = (0..<5_000).map { _ in next() }
        for length in Array(0...200) + [447, 448, 511, 512, 513, 1_000, 4_096, 4_999] {
            var fast = SHA256(), portable = SHA256()
            portable.portableOnly = true
            var offset = 0
            var piece = 1
            while offset < length {
                let take = min(piece, length - offset)
                fast.update(data[offset..<(offset + take)])
                portable.update(data[offset..<(offset + take)])
                offset += take
                piece = piece * 2 + 3
            }
            #expect(hex(fast.finalize()) == hex(portable.finalize()), "length \(length), instructions used: \(SHA256.usesHardware)")
        }
        for (message, digest) in Self.cavsVectors.prefix(3) {
            var bytes: [UInt8] = []
            var index = message.startIndex
            while index < message.endIndex {
                let next = message.index(index, offsetBy: 2)
                bytes.append(UInt8(message[index..<next], radix: 16) ?? 0)
                index = next
            }
            var portable = SHA256()
            portable.portableOnly = true
            portable.update(bytes)
            #expect(hex(portable.finalize()) == digest)
        }
    }

    // The one-million-'a' vector fed in pieces that never hold the whole message, the way an
    // object is hashed chunk by chunk.
    @Test func sha256MillionAInPiecesWithoutTheWholeInput() {
        var hasher = SHA256()
        let piece = [UInt8](repeating: 0x61, count: 1000)
        for _ in 0..<1000 { hasher.update(piece) }
        #expect(hex(hasher.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        var odd = SHA256()
        var left = 1_000_000
        var size = 1
        while left > 0 {
            let take = min(size, left)
            odd.update(piece[0..<min(take, 1000)])
            if take > 1000 { odd.update([UInt8](repeating: 0x61, count: take - 1000)) }
            left -= take
            size = size * 3 + 1
        }
        #expect(hex(odd.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func sha512Vectors() {
        #expect(hex(SHA512.hash(Array("abc".utf8)))
            == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
        #expect(hex(SHA512.hash([UInt8]()))
            == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
        #expect(hex(SHA512.hash(Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8)))
            == "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909")
    }

    /// Messages whose padding just fits in, or just spills out of, the last block (digest prefixes
    /// from Python's hashlib).
    @Test(arguments: [
        (55, "27d3069ecafb8507", "0203b7d41f991279"), (56, "3428ab653c0a1ac1", "b5d2b82448e1edc1"),
        (63, "b5ec25bd1c4b7c94", "19508021c0d94c15"), (64, "a08f82c23e6c1362", "1899fdaafd560b68"),
        (111, "a5ee291084218c21", "805fdd59b337a848"), (112, "332513df939c2da5", "a9f77fb8e5de7cda"),
        (119, "b4639d08cdba917a", "c8dda6e1430678dc"), (120, "e4fce14f6aa99657", "9f891b0f2b3973d3"),
        (127, "c3328af00588e4c0", "d67b2d3795c7c27c"), (128, "8bb5dfd6ac2a606c", "9ef6a88ed8eeeedc"),
    ])
    func paddingAtTheBlockBoundaries(length: Int, sha256: String, sha512: String) {
        let data = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        #expect(hex(SHA256.hash(data)).hasPrefix(sha256))
        var portable = SHA256()
        portable.portableOnly = true
        portable.update(data)
        #expect(hex(portable.finalize()).hasPrefix(sha256))
        #expect(hex(SHA512.hash(data)).hasPrefix(sha512))
    }

    @Test func incrementalUpdatesMatchOneShot() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for split in [0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 999] {
            var a = SHA256()
            a.update(data[..<split])
            a.update(data[split...])
            #expect(a.finalize() == SHA256.hash(data), "SHA-256 split at \(split)")
            var b = SHA512()
            b.update(data[..<split])
            b.update(data[split...])
            #expect(b.finalize() == SHA512.hash(data), "SHA-512 split at \(split)")
        }
    }

    // RFC 4231 test cases 1, 2 and 6.
    @Test func hmacVectors() {
        let key1 = [UInt8](repeating: 0x0b, count: 20)
        let msg1 = Array("Hi There".utf8)
        #expect(hex(HMAC<SHA256>.authenticationCode(key: key1, message: msg1))
            == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(hex(HMAC<SHA512>.authenticationCode(key: key1, message: msg1))
            == "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854")
        let key2 = Array("Jefe".utf8)
        let msg2 = Array("what do ya want for nothing?".utf8)
        #expect(hex(HMAC<SHA256>.authenticationCode(key: key2, message: msg2))
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        let key6 = [UInt8](repeating: 0xaa, count: 131)
        let msg6 = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
        #expect(hex(HMAC<SHA256>.authenticationCode(key: key6, message: msg6))
            == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        #expect(hex(HMAC<SHA512>.authenticationCode(key: key6, message: msg6))
            == "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598")
    }

    // RFC 7914 §11 (PBKDF2-HMAC-SHA256) and a widely published SHA-512 value.
    @Test func pbkdf2Vectors() {
        #expect(hex(PBKDF2<SHA256>.derive(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, length: 64))
            == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
        #expect(hex(PBKDF2<SHA256>.derive(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 4096, length: 32))
            == "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
        #expect(hex(PBKDF2<SHA512>.derive(password: Array("password".utf8), salt: Array("salt".utf8), iterations: 1, length: 64))
            == "867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce")
    }

    @Test func constantTimeEqualAndWipe() {
        #expect(SecretBytes.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!SecretBytes.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!SecretBytes.constantTimeEqual([1, 2], [1, 2, 3]))
        var secret: [UInt8] = [9, 8, 7]
        SecretBytes.wipe(&secret)
        #expect(secret == [0, 0, 0])
    }
}
