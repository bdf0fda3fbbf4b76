/// How the group run loop retries a record whose handler failed, by kind of failure (see
/// ``KafkaFailureKind``).
///
/// - Transient failures are retried with backoff until ``transientTimeout`` has passed since
///   the record's first failure; only then does the record follow the dead-letter policy.
/// - Poison failures are retried until the handler failed ``attempts`` times in total.
/// - Cancellation is never retried and never dead-letters: the run stops.
///
/// The wait before a retry is ``backoff`` doubled per failure of the record, at most
/// ``maxBackoff``.
public struct KafkaRetryPolicy: Sendable {
    /// Default poison attempts: 3.
    public static let defaultAttempts = 3
    /// Default first backoff: 100 ms.
    public static let defaultBackoff: Duration = .milliseconds(100)
    /// Default longest backoff: 5 s.
    public static let defaultMaxBackoff: Duration = .seconds(5)
    /// Default transient deadline: 2 min, the producer's default `deliveryTimeout`
    /// (`delivery.timeout.ms`): long enough to ride out a broker restart or a NATS reconnect.
    public static let defaultTransientTimeout: Duration = .seconds(120)

    /// Handler calls in total, the first included, while the record is rejected as poison.
    /// Default 3.
    public var attempts: Int
    /// Wait before the second attempt, doubled for each later one. Default 100 ms.
    public var backoff: Duration
    /// The longest wait between attempts. Default 5 s.
    public var maxBackoff: Duration
    /// How long transient failures of one record are retried, counted from its first failure.
    /// Default 2 min.
    public var transientTimeout: Duration
    /// Classifies what a handler threw. Default ``KafkaFailureKind/classify(_:)``; replace it to
    /// mark your own errors (or call the default for the rest).
    public var classify: @Sendable (any Error) -> KafkaFailureKind

    /// Creates a policy; every argument has the default stated on its property.
    public init(attempts: Int = KafkaRetryPolicy.defaultAttempts, backoff: Duration = KafkaRetryPolicy.defaultBackoff,
                maxBackoff: Duration = KafkaRetryPolicy.defaultMaxBackoff,
                transientTimeout: Duration = KafkaRetryPolicy.defaultTransientTimeout,
                classify: @escaping @Sendable (any Error) -> KafkaFailureKind = KafkaFailureKind.classify) {
        self.attempts = max(1, attempts)
        self.backoff = max(.zero, backoff)
        self.maxBackoff = max(self.backoff, maxBackoff)
        self.transientTimeout = max(.zero, transientTimeout)
        self.classify = classify
    }

    /// The wait after the `failures`-th failure of a record (1-based).
    func delay(afterFailure failures: Int) -> Duration {
        let doubled = backoff * (1 << min(max(0, failures - 1), 20))
        return min(doubled, maxBackoff)
    }
}

/// What the run loop does after a handler failed.
enum KafkaRetryDecision: Equatable, Sendable {
    /// Call the handler again after this wait.
    case retry(after: Duration)
    /// Give up on the record: follow the dead-letter policy for this reason.
    case giveUp(KafkaDeadLetterReason)
    /// Stop the run without processing the record (cancellation).
    case stop
}

/// The retry state of one record (or, for batch handlers, of the first unresolved record).
/// Pure: time enters as a value.
struct KafkaRetryTracker: Sendable {
    let policy: KafkaRetryPolicy
    /// Failures so far.
    private(set) var failures = 0
    private(set) var poisonFailures = 0
    private(set) var firstFailure: ContinuousClock.Instant?
    /// The last failure and its kind, for the next attempt's context.
    private(set) var lastFailure: (any Error)?
    private(set) var lastKind: KafkaFailureKind?

    init(policy: KafkaRetryPolicy) { self.policy = policy }

    /// The 1-based number of the next handler call.
    var nextAttempt: Int { failures + 1 }

    /// Records a failure of `kind` at `now` and says what to do.
    mutating func failed(_ error: any Error, kind: KafkaFailureKind, at now: ContinuousClock.Instant) -> KafkaRetryDecision {
        if kind == .cancellation { return .stop }
        failures += 1
        lastFailure = error
        lastKind = kind
        let first = firstFailure ?? now
        firstFailure = first
        let wait = policy.delay(afterFailure: failures)
        switch kind {
        case .poison:
            poisonFailures += 1
            return poisonFailures >= policy.attempts ? .giveUp(.poison) : .retry(after: wait)
        case .transient:
            let deadline = first.advanced(by: policy.transientTimeout)
            guard now < deadline else { return .giveUp(.transientTimeout) }
            // One last attempt at the deadline rather than a wait past it.
            return .retry(after: min(wait, deadline - now))
        case .cancellation:
            return .stop
        }
    }
}
