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

    @Test func sha512Vectors() {
        #expect(hex(SHA512.hash(Array("abc".utf8)))
            == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
        #expect(hex(SHA512.hash([UInt8]()))
            == "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")
        #expect(hex(SHA512.hash(Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8)))
            == "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909")
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
