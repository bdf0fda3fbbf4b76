import Testing
import TributaryKafkaProtocol

/// SASL OAUTHBEARER (RFC 7628 as Kafka uses it, KIP-255/KIP-342): the client's bytes, and the
/// exchange as a transcript of tokens.
@Suite("SASL OAUTHBEARER")
struct SASLOAuthBearerTests {
    static let token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9."

    @Test func initialResponseWithoutExtensionsIsTheRFC7628Layout() throws {
        let bytes = try SASLOAuthBearer.initialResponse(token: Self.token, extensions: [:])
        #expect(bytes == Array("n,,\u{1}auth=Bearer \(Self.token)\u{1}\u{1}".utf8))
    }

    @Test func extensionsFollowTheTokenSortedByKey() throws {
        let bytes = try SASLOAuthBearer.initialResponse(token: "abc", extensions: ["traceId": "t 1", "logicalCluster": "lkc-42"])
        #expect(bytes == Array("n,,\u{1}auth=Bearer abc\u{1}logicalCluster=lkc-42\u{1}traceId=t 1\u{1}\u{1}".utf8))
        #expect(bytes.first == UInt8(ascii: "n") && bytes.last == 0x01 && bytes[bytes.count - 2] == 0x01)
    }

    @Test func badTokensAndExtensionsAreRefusedWithoutQuotingSecrets() {
        let secret = "s3cret-token-value"
        for token in ["", "Bearer \(secret)", "\(secret)\u{1}", "a=b", "tok\u{e9}n"] {
            #expect(throws: SASLError.self, "\(token)") { _ = try SASLOAuthBearer.initialResponse(token: token, extensions: [:]) }
        }
        #expect(throws: Never.self) { _ = try SASLOAuthBearer.initialResponse(token: "a-b.c_d~e+f/g==", extensions: [:]) }
        for (key, value) in [("auth", "x"), ("", "x"), ("trace_id", "x"), ("k1", "x"), ("key", "a\u{1}b"), ("key", "caf\u{e9}")] {
            do {
                _ = try SASLOAuthBearer.initialResponse(token: "abc", extensions: [key: value])
                Issue.record("extension \(key)=\(value) was accepted")
            } catch {
                #expect(!"\(error)".contains(value) || value == "x", "\(error)")
                if key == "auth" { #expect("\(error)".contains("reserved"), "\(error)") }
            }
        }
        do {
            _ = try SASLOAuthBearer.initialResponse(token: "Bearer \(secret)", extensions: [:])
        } catch {
            #expect(!"\(error)".contains(secret), "\(error)")
        }
    }

    @Test func successIsAnEmptyServerToken() throws {
        var exchange = try KafkaSASLExchange(.oauthBearer(token: Self.token, extensions: ["traceId": "42"]), clientNonce: "unused")
        #expect(exchange.mechanismName == "OAUTHBEARER")
        #expect(try exchange.start() == Array("n,,\u{1}auth=Bearer \(Self.token)\u{1}traceId=42\u{1}\u{1}".utf8))
        #expect(!exchange.isComplete)
        #expect(try exchange.responseReceived([]) == nil)
        #expect(exchange.isComplete)
        #expect(exchange.rejection == nil)
        #expect(throws: SASLError.self) { _ = try exchange.responseReceived([]) }
        #expect(!"\(exchange)".contains(Self.token))
    }

    /// RFC 7628 §3.2.2–3.2.3: an error challenge is answered with a lone %x01; the broker then
    /// fails the request, and the exchange keeps the challenge's status for the error message.
    @Test func anErrorChallengeIsAnsweredWithKvsepAndKeepsTheStatus() throws {
        var exchange = try KafkaSASLExchange(.oauthBearer(token: Self.token, extensions: [:]), clientNonce: "unused")
        _ = try exchange.start()
        let challenge = Array(#"{"status":"invalid_token","scope":"kafka","openid-configuration":"https://idp/.well-known"}"#.utf8)
        #expect(try exchange.responseReceived(challenge) == [0x01])
        #expect(!exchange.isComplete)
        #expect(exchange.rejection == .tokenRejected(status: "invalid_token"))
        #expect("\(exchange.rejection!)".contains("'invalid_token'"))
        // A broker that accepts the %x01 breaks RFC 7628: still a failure, with the status.
        #expect(throws: SASLError.tokenRejected(status: "invalid_token")) { _ = try exchange.responseReceived([]) }
    }

    @Test func theStatusIsReadFromAnyMemberOrderAndSanitized() {
        #expect(SASLOAuthBearer.status(ofChallenge: Array(#"{ "scope" : ["a","b"], "x": {"status":"nested"}, "status" : "insufficient_scope" }"#.utf8)) == "insufficient_scope")
        #expect(SASLOAuthBearer.status(ofChallenge: Array(#"{"status":"bad\u0001\n\#u{1}x"}"#.utf8)) == "badu0001nx")
        #expect(SASLOAuthBearer.status(ofChallenge: Array(#"{"status":42}"#.utf8)) == nil)
        #expect(SASLOAuthBearer.status(ofChallenge: Array("not json".utf8)) == nil)
        #expect(SASLOAuthBearer.status(ofChallenge: Array(#"{"status":"unterminated"#.utf8)) == nil)
        #expect(SASLOAuthBearer.status(ofChallenge: Array(("{\"status\":\"" + String(repeating: "x", count: 500) + "\"}").utf8))?.count == 64)
        #expect(SASLOAuthBearer.status(ofChallenge: []) == nil)
    }

    @Test func aChallengeWithoutStatusStillFails() throws {
        var exchange = try KafkaSASLExchange(.oauthBearer(token: "abc", extensions: [:]), clientNonce: "n")
        _ = try exchange.start()
        #expect(try exchange.responseReceived(Array("garbage".utf8)) == [0x01])
        #expect(exchange.rejection == .tokenRejected(status: nil))
        #expect("\(exchange.rejection!)".contains("'none given'"))
    }

    @Test func outOfOrderCallsAreErrors() throws {
        var exchange = try KafkaSASLExchange(.oauthBearer(token: "abc", extensions: [:]), clientNonce: "n")
        #expect(throws: SASLError.self) { _ = try exchange.responseReceived([]) }
        _ = try exchange.start()
        #expect(throws: SASLError.self) { _ = try exchange.start() }
    }
}
