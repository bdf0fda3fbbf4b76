/// What the run loop tells a record or batch handler about the current call.
public struct KafkaHandlerContext: Sendable, CustomStringConvertible {
    /// The 1-based number of this call for the record (for a batch: for its first record);
    /// above 1 the handler failed before and is being retried.
    public var attempt: Int
    /// What the previous call threw, nil on the first attempt.
    public var previousFailure: (any Error)?
    /// How ``previousFailure`` was classified, nil on the first attempt.
    public var previousFailureKind: KafkaFailureKind?

    /// Creates a context (the run loop does; tests of handlers may too).
    public init(attempt: Int, previousFailure: (any Error)? = nil, previousFailureKind: KafkaFailureKind? = nil) {
        self.attempt = attempt
        self.previousFailure = previousFailure
        self.previousFailureKind = previousFailureKind
    }

    /// `attempt 2 (after transient: …)`.
    public var description: String {
        guard let previousFailure else { return "attempt \(attempt)" }
        return "attempt \(attempt) (after \(previousFailureKind.map { "\($0)" } ?? "failure"): \(previousFailure))"
    }
}
