import TributaryWire
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TributaryKafkaProtocol

/// The token provider of an OAUTHBEARER ``KafkaSASL`` and the token it last returned, shared by
/// every connection that authenticates with that `KafkaSASL` value.
///
/// Caching follows librdkafka: a token with a known expiry is reused until 80 % of its lifetime
/// (from when it was received) has passed; a token without one is never reused. At most one
/// call of the provider runs at a time: connections that need a token while another fetches it
/// wait for that fetch and then use its token (or, if it failed, try themselves), so a fleet
/// of connections opening at once does not stampede the identity provider.
///
/// The provider runs in the task that authenticates (a caller of `connect`, or the task a
/// connection starts for re-authentication), never on an I/O thread and never under the lock.
/// Compared and hashed by identity.
final class KafkaOAuthBearerTokenSource: Sendable, Hashable {
    typealias Provider = @Sendable () async throws -> KafkaOAuthBearerToken

    /// The share of a token's lifetime after which it is fetched again (librdkafka: 80 %).
    static let refreshFraction = 0.8

    private struct Cached {
        var token: KafkaOAuthBearerToken
        var refreshAt: Date
    }

    private struct State {
        var cached: Cached?
        var fetching = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
        var calls = 0
    }

    private let provider: Provider
    private let now: @Sendable () -> Date
    private let state = Locked(State())

    init(provider: @escaping Provider, now: @escaping @Sendable () -> Date = { Date() }) {
        self.provider = provider
        self.now = now
    }

    /// How often the provider was called.
    var providerCalls: Int { state.withLock { $0.calls } }

    /// A token to authenticate with: the cached one while it is fresh, else a new one from the
    /// provider.
    ///
    /// - Throws: ``KafkaError`` `cancelled` when the task is cancelled (also while the provider
    ///   runs or while waiting for another connection's fetch); `authenticationFailed` when the
    ///   provider throws (with its error as `underlying`) or returns a token that has already
    ///   expired; `invalidConfiguration` for a token or extensions OAUTHBEARER cannot carry.
    func token() async throws(KafkaError) -> KafkaOAuthBearerToken {
        while true {
            if Task.isCancelled { throw Self.cancelled() }
            enum Step { case use(KafkaOAuthBearerToken), fetch, wait(UInt64) }
            let time = now()
            let step = state.withLock { state -> Step in
                if let cached = state.cached, time < cached.refreshAt { return .use(cached.token) }
                if !state.fetching {
                    state.fetching = true
                    state.calls += 1
                    return .fetch
                }
                state.nextWaiter += 1
                return .wait(state.nextWaiter)
            }
            switch step {
            case .use(let token):
                return token
            case .fetch:
                return try await fetch()
            case .wait(let id):
                await waitForFetch(id)
            }
        }
    }

    /// Forgets `token` if it is the cached one (the broker refused it), so the next
    /// authentication asks the provider again.
    func invalidate(_ token: KafkaOAuthBearerToken) {
        state.withLock { state in
            if state.cached?.token == token { state.cached = nil }
        }
    }

    private func fetch() async throws(KafkaError) -> KafkaOAuthBearerToken {
        let result: Result<KafkaOAuthBearerToken, KafkaError>
        do {
            let token = try await provider()
            result = Self.check(token, at: now())
        } catch {
            if error is CancellationError || Task.isCancelled {
                result = .failure(Self.cancelled(underlying: error))
            } else {
                result = .failure(KafkaError(.authenticationFailed, "the OAUTHBEARER token provider failed: \(error); no token was sent. Fix the token provider given to KafkaSASL.oauthBearer(tokenProvider:) (its identity provider, client credentials and network)",
                                             underlying: error))
            }
        }
        let received = now()
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.fetching = false
            if case .success(let token) = result, let expiresAt = token.expiresAt {
                let refreshAt = received.addingTimeInterval(expiresAt.timeIntervalSince(received) * Self.refreshFraction)
                state.cached = Cached(token: token, refreshAt: refreshAt)
            }
            let waiting = Array(state.waiters.values)
            state.waiters.removeAll()
            return waiting
        }
        for waiter in waiters { waiter.resume() }
        return try result.get()
    }

    /// Suspends until the fetch in progress ends, or the task is cancelled.
    private func waitForFetch(_ id: UInt64) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    // Cancelled before registering, or the fetch already ended: go round again.
                    if Task.isCancelled || !state.fetching { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    /// `token` if OAUTHBEARER can send it now; the error naming what is wrong otherwise.
    static func check(_ token: KafkaOAuthBearerToken, at time: Date) -> Result<KafkaOAuthBearerToken, KafkaError> {
        if let expiresAt = token.expiresAt, expiresAt <= time {
            let ago = Int(time.timeIntervalSince(expiresAt).rounded())
            return .failure(KafkaError(.authenticationFailed, "the OAUTHBEARER token provider returned a token for \(token.principalPhrase) that expired at \(expiresAt.ISO8601Format()) (\(ago) s ago); it was not sent. Return a current token (check the provider's clock and token cache)"))
        }
        do throws(SASLError) {
            try SASLOAuthBearer.validate(token: token.value)
            try SASLOAuthBearer.validate(extensions: token.extensions)
        } catch {
            return .failure(KafkaError(.invalidConfiguration, "the OAUTHBEARER token provider returned a token for \(token.principalPhrase) that cannot be sent: \(error)", underlying: error))
        }
        return .success(token)
    }

    private static func cancelled(underlying: (any Error)? = nil) -> KafkaError {
        KafkaError(.cancelled, "authentication with SASL OAUTHBEARER was cancelled while getting a token", underlying: underlying ?? CancellationError())
    }

    static func == (lhs: KafkaOAuthBearerTokenSource, rhs: KafkaOAuthBearerTokenSource) -> Bool { lhs === rhs }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
