import TributaryWire
import Foundation
import Testing
@testable import TributaryKafka

/// OAUTHBEARER tokens on the client side: redaction, the unsecured JWT librdkafka builds, and the
/// token cache (80 % of the lifetime, one provider call at a time, errors and cancellation).
@Suite("Kafka OAUTHBEARER tokens")
struct KafkaOAuthBearerTokenTests {
    static let secret = "eyJhbGciOiJub25lIn0.c2VjcmV0LXRva2VuLXZhbHVl."

    /// A wall clock the test moves.
    final class TestClock: Sendable {
        private let time = Locked(Date(timeIntervalSince1970: 1_700_000_000))
        var now: Date { time.withLock { $0 } }
        func advance(_ seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
    }

    /// Counts provider calls and returns tokens expiring `lifetime` seconds after the clock.
    final class CountingProvider: Sendable {
        let clock: TestClock
        let lifetime: TimeInterval?
        private let count = Locked(0)
        init(clock: TestClock, lifetime: TimeInterval?) {
            self.clock = clock
            self.lifetime = lifetime
        }
        var calls: Int { count.withLock { $0 } }
        func next() async throws -> KafkaOAuthBearerToken {
            let index = count.withLock { value -> Int in
                value += 1
                return value
            }
            try await Task.sleep(for: .milliseconds(50))   // a slow identity provider
            return KafkaOAuthBearerToken(value: "tok\(index)", principal: "alice", expiresAt: lifetime.map { clock.now.addingTimeInterval($0) })
        }
    }

    @Test func descriptionsRedactTheValue() {
        let token = KafkaOAuthBearerToken(value: Self.secret, principal: "alice", expiresAt: Date(timeIntervalSince1970: 1_700_000_000), extensions: ["traceId": "x"])
        var dumped = ""
        dump(token, to: &dumped)
        var saslDump = ""
        let sasl = KafkaSASL.oauthBearer { token }
        dump(sasl, to: &saslDump)
        for text in ["\(token)", String(reflecting: token), dumped, "\(sasl)", String(reflecting: sasl), saslDump] {
            #expect(!text.contains(Self.secret), "\(text)")
        }
        #expect("\(token)" == #"KafkaOAuthBearerToken(principal "alice", expires 2023-11-14T22:13:20Z, extensions [traceId], value <redacted>)"#)
        #expect("\(sasl)" == "KafkaSASL(OAUTHBEARER, token provider, token <redacted>)")
    }

    @Test func theMechanismIsNamedAndHashableByProvider() {
        #expect(KafkaSASL.Mechanism(name: "oauthbearer") == .oauthBearer)
        #expect(KafkaSASL.Mechanism.all.contains(.oauthBearer))
        let one = KafkaSASL.oauthBearer { KafkaOAuthBearerToken(value: "a") }
        let copy = one
        let other = KafkaSASL.oauthBearer { KafkaOAuthBearerToken(value: "a") }
        #expect(one == copy)
        #expect(one != other)
        #expect(Set([one, copy, other]).count == 2)
    }

    /// The shape librdkafka's `enable.sasl.oauthbearer.unsecure.jwt` builds.
    @Test func unsecuredJWTMatchesLibrdkafka() throws {
        let issued = Date(timeIntervalSince1970: 1_549_251_467.546)
        let token = KafkaOAuthBearerToken.unsecuredJWT(principal: "alice", lifetime: .seconds(600), scope: ["read", "", "write", "read"], issuedAt: issued)
        let parts = token.value.split(separator: ".", omittingEmptySubsequences: false)
        #expect(parts.count == 3 && parts[2].isEmpty, "\(token.value)")
        #expect(parts[0] == "eyJhbGciOiJub25lIn0")   // {"alg":"none"}, as librdkafka hard-codes it
        #expect(!token.value.contains("=") && !token.value.contains("+") && !token.value.contains("/"))
        var payload = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        let claims = String(decoding: try #require(Data(base64Encoded: payload)), as: UTF8.self)
        #expect(claims == #"{"sub":"alice","iat":1549251467.546,"exp":1549252067.546,"scope":["read","write"]}"#)
        #expect(token.principal == "alice")
        #expect(token.expiresAt == Date(timeIntervalSince1970: 1_549_252_067.546))
        let quoted = KafkaOAuthBearerToken.unsecuredJWT(principal: "a\"b", issuedAt: issued)
        var quotedPayload = String(quoted.value.split(separator: ".")[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while quotedPayload.count % 4 != 0 { quotedPayload += "=" }
        let object = try JSONSerialization.jsonObject(with: try #require(Data(base64Encoded: quotedPayload))) as? [String: Any]
        #expect(object?["sub"] as? String == "a\"b")
    }

    @Test func aTokenWithExpiryIsReusedUntil80PercentOfItsLifetime() async throws {
        let clock = TestClock()
        let provider = CountingProvider(clock: clock, lifetime: 100)
        let source = KafkaOAuthBearerTokenSource(provider: provider.next, now: { clock.now })
        #expect(try await source.token().value == "tok1")
        clock.advance(79)
        #expect(try await source.token().value == "tok1")
        clock.advance(2)
        #expect(try await source.token().value == "tok2")
        #expect(provider.calls == 2)
    }

    @Test func aTokenWithoutExpiryIsFetchedForEveryAuthentication() async throws {
        let clock = TestClock()
        let provider = CountingProvider(clock: clock, lifetime: nil)
        let source = KafkaOAuthBearerTokenSource(provider: provider.next, now: { clock.now })
        for expected in 1...3 { #expect(try await source.token().value == "tok\(expected)") }
        #expect(provider.calls == 3)
    }

    @Test func concurrentConnectionsShareOneFetch() async throws {
        let clock = TestClock()
        let provider = CountingProvider(clock: clock, lifetime: 3600)
        let source = KafkaOAuthBearerTokenSource(provider: provider.next, now: { clock.now })
        let values = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<16 { group.addTask { try await source.token().value } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(values == Array(repeating: "tok1", count: 16))
        #expect(provider.calls == 1)
    }

    @Test func aRefusedTokenIsDropped() async throws {
        let clock = TestClock()
        let provider = CountingProvider(clock: clock, lifetime: 3600)
        let source = KafkaOAuthBearerTokenSource(provider: provider.next, now: { clock.now })
        let first = try await source.token()
        source.invalidate(first)
        #expect(try await source.token().value == "tok2")
    }

    struct IdentityProviderDown: Error, CustomStringConvertible {
        var description: String { "identity provider returned HTTP 503" }
    }

    @Test func aThrowingProviderIsAnAuthenticationFailureWithTheUnderlyingError() async {
        let source = KafkaOAuthBearerTokenSource(provider: { throw IdentityProviderDown() })
        do {
            _ = try await source.token()
            Issue.record("no error")
        } catch {
            #expect(error.code == .authenticationFailed)
            #expect(error.message.contains("token provider failed") && error.message.contains("HTTP 503"), "\(error.message)")
            #expect(error.underlying is IdentityProviderDown)
            #expect(!error.isRetriable)
        }
    }

    @Test func anExpiredTokenIsRefusedBeforeSending() async {
        let clock = TestClock()
        let source = KafkaOAuthBearerTokenSource(provider: {
            KafkaOAuthBearerToken(value: Self.secret, principal: "alice", expiresAt: clock.now.addingTimeInterval(-30))
        }, now: { clock.now })
        do {
            _ = try await source.token()
            Issue.record("an expired token was accepted")
        } catch {
            #expect(error.code == .authenticationFailed)
            #expect(error.message.contains("principal \"alice\"") && error.message.contains("expired") && error.message.contains("30 s ago"), "\(error.message)")
            #expect(!"\(error)".contains(Self.secret))
        }
    }

    @Test func badExtensionsAreAConfigurationErrorNamingTheKey() async {
        let source = KafkaOAuthBearerTokenSource(provider: { KafkaOAuthBearerToken(value: "abc", extensions: ["auth": "x"]) })
        do {
            _ = try await source.token()
            Issue.record("no error")
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.contains("'auth'"), "\(error.message)")
        }
    }

    @Test func cancellationIsCancellationNotAnAuthenticationFailure() async throws {
        let started = Locked(0)
        let source = KafkaOAuthBearerTokenSource(provider: {
            started.withLock { $0 += 1 }
            // Only cancellation ends this provider in a test run: a bound of seconds could pass
            // while a loaded machine keeps the test's own task from running.
            try await Task.sleep(for: .seconds(3600))
            return KafkaOAuthBearerToken(value: "late")
        })
        // One task runs the provider; a second waits for that fetch. Cancelling both must end
        // both with `.cancelled` long before the provider would return.
        @Sendable func attempt() async -> Result<KafkaOAuthBearerToken, KafkaError> {
            do throws(KafkaError) { return .success(try await source.token()) } catch { return .failure(error) }
        }
        let fetching = Task { await attempt() }
        while started.withLock({ $0 }) == 0 { await Task.yield() }
        let waiting = Task { await attempt() }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        fetching.cancel()
        for task in [waiting, fetching] {
            switch await task.value {
            case .success: Issue.record("a cancelled task got a token")
            case .failure(let error): #expect(error.code == .cancelled, "\(error)")
            }
        }
        #expect(started.withLock { $0 } == 1)
    }

    @Test func configurationNeedsAProviderButNoUserName() async throws {
        var configuration = KafkaClientConfiguration()
        configuration.bootstrapServers = [KafkaBrokerAddress(host: "127.0.0.1", port: 1)]
        configuration.securityProtocol = .saslPlaintext
        configuration.sasl = KafkaSASL(mechanism: .oauthBearer, username: "u", password: "p")
        await #expect(throws: KafkaError.self) { _ = try await KafkaClient.connect(configuration) }
        do {
            _ = try await KafkaClient.connect(configuration)
        } catch {
            #expect(error.code == .invalidConfiguration && error.message.contains(".oauthBearer(tokenProvider:)"), "\(error)")
        }
        configuration.sasl = .oauthBearer { KafkaOAuthBearerToken(value: "abc") }
        configuration.connectTimeout = .milliseconds(200)
        configuration.operationTimeout = .seconds(1)
        do {
            _ = try await KafkaClient.connect(configuration)
            Issue.record("connected to port 1")
        } catch {
            #expect(error.code != .invalidConfiguration, "\(error)")
        }
    }
}
