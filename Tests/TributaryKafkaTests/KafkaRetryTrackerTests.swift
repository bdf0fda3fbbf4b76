import Testing
@testable import TributaryKafka

/// The retry decisions of the run loop, as transcripts: failure → decision, with time as a value.
@Suite("Retry decisions per failure kind")
struct KafkaRetryTrackerTests {
    struct Rejected: Error {}
    let start = ContinuousClock.now

    @Test func poisonIsRetriedUpToTheAttemptsThenGivenUp() {
        var tracker = KafkaRetryTracker(policy: KafkaRetryPolicy(attempts: 3, backoff: .milliseconds(100)))
        #expect(tracker.nextAttempt == 1)
        #expect(tracker.failed(Rejected(), kind: .poison, at: start) == .retry(after: .milliseconds(100)))
        #expect(tracker.nextAttempt == 2)
        #expect(tracker.lastKind == .poison)
        #expect(tracker.failed(Rejected(), kind: .poison, at: start + .milliseconds(100)) == .retry(after: .milliseconds(200)))
        #expect(tracker.failed(Rejected(), kind: .poison, at: start + .milliseconds(300)) == .giveUp(.poison))
        #expect(tracker.failures == 3)
    }

    @Test func transientFailuresAreRetriedUntilTheDeadlineNotByCount() {
        let policy = KafkaRetryPolicy(attempts: 2, backoff: .milliseconds(100), maxBackoff: .seconds(1), transientTimeout: .seconds(3))
        var tracker = KafkaRetryTracker(policy: policy)
        var now = start
        var waits: [Duration] = []
        while case .retry(let wait) = tracker.failed(KafkaError(.timedOut, "t"), kind: .transient, at: now) {
            waits.append(wait)
            now += wait
        }
        // 100, 200, 400, 800 ms, then capped at 1 s, and the last wait ends at the deadline.
        #expect(waits == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1000), .milliseconds(500)])
        #expect(now == start + .seconds(3))
        #expect(tracker.failed(KafkaError(.timedOut, "t"), kind: .transient, at: now) == .giveUp(.transientTimeout))
        // Far more than `attempts` calls were made: transient failures do not use up poison attempts.
        #expect(tracker.failures > policy.attempts)
    }

    @Test func transientFailuresDoNotCountAsPoisonAttempts() {
        var tracker = KafkaRetryTracker(policy: KafkaRetryPolicy(attempts: 2, backoff: .zero, transientTimeout: .seconds(60)))
        #expect(tracker.failed(KafkaError(.timedOut, "t"), kind: .transient, at: start) == .retry(after: .zero))
        #expect(tracker.failed(KafkaError(.timedOut, "t"), kind: .transient, at: start) == .retry(after: .zero))
        #expect(tracker.failed(Rejected(), kind: .poison, at: start) == .retry(after: .zero))
        #expect(tracker.failed(Rejected(), kind: .poison, at: start) == .giveUp(.poison))
    }

    @Test func cancellationStopsWithoutCountingAFailure() {
        var tracker = KafkaRetryTracker(policy: KafkaRetryPolicy(attempts: 1))
        #expect(tracker.failed(CancellationError(), kind: .cancellation, at: start) == .stop)
        #expect(tracker.failures == 0)
        #expect(tracker.nextAttempt == 1)
    }

    @Test func aZeroTransientTimeoutGivesUpAtTheFirstTransientFailure() {
        var tracker = KafkaRetryTracker(policy: KafkaRetryPolicy(transientTimeout: .zero))
        #expect(tracker.failed(KafkaError(.timedOut, "t"), kind: .transient, at: start) == .giveUp(.transientTimeout))
    }
}
