import Testing
import TributaryWire

@Suite("Base64URL")
struct Base64URLTests {
    // RFC 4648 §10 test vectors (the URL alphabet differs only in characters 62 and 63).
    static let vectors: [(String, String, String)] = [
        ("", "", ""), ("f", "Zg", "Zg=="), ("fo", "Zm8", "Zm8="), ("foo", "Zm9v", "Zm9v"),
        ("foob", "Zm9vYg", "Zm9vYg=="), ("fooba", "Zm9vYmE", "Zm9vYmE="), ("foobar", "Zm9vYmFy", "Zm9vYmFy"),
    ]

    @Test func rfc4648VectorsWithAndWithoutPadding() {
        for (plain, bare, padded) in Self.vectors {
            #expect(Base64URL.encode(Array(plain.utf8)) == bare)
            #expect(Base64URL.encode(Array(plain.utf8), padding: true) == padded)
            #expect(Base64URL.decode(bare) == Array(plain.utf8))
            #expect(Base64URL.decode(padded) == Array(plain.utf8))
        }
    }

    @Test func urlAlphabetForCharacters62And63() {
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64URL.decode("-_-_") == [0xFB, 0xFF, 0xBF])
        // The standard alphabet's + and / are not base64url.
        #expect(Base64URL.decode("+/+/") == nil)
    }

    @Test func malformedTextIsRejected() {
        #expect(Base64URL.decode("Z") == nil)          // impossible length
        #expect(Base64URL.decode("Zg=") == nil)        // padding to a non-multiple of 4
        #expect(Base64URL.decode("Zg===") == nil)      // three padding characters
        #expect(Base64URL.decode("Z=g=") == nil)       // padding inside
        #expect(Base64URL.decode("Zm 9v") == nil)      // space
    }

    @Test func everyLengthRoundTrips() {
        var bytes: [UInt8] = []
        for length in 0..<200 {
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes, "length \(length)")
            #expect(Base64URL.decode(Base64URL.encode(bytes, padding: true)) == bytes, "padded length \(length)")
            bytes.append(UInt8(truncatingIfNeeded: length &* 151 &+ 7))
        }
    }
}
