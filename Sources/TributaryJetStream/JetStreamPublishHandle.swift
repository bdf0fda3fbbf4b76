import TributaryWire

/// The pending acknowledgement of one async publish: ends in exactly one ack or error.
public final class JetStreamPublishHandle: Sendable {
    /// The subject published to.
    public let subject: String

    private struct State {
        var result: Result<PubAck, JetStreamError>?
        var waiters: [CheckedContinuation<Result<PubAck, JetStreamError>, Never>] = []
    }

    private let state = Locked(State())

    init(subject: String) {
        self.subject = subject
    }

    /// The outcome when it is known, nil while the acknowledgement is pending.
    public var result: Result<PubAck, JetStreamError>? { state.withLock { $0.result } }

    /// Waits for the acknowledgement.
    ///
    /// - Throws: what the publish ended with: `.expectationFailed`, `.timeout`, `.noResponders`,
    ///   `.apiError`. Cancelling the waiting task does not cancel the publish; it waits on.
    nonisolated(nonsending) public func value() async throws(JetStreamError) -> PubAck {
        // An acknowledgement that already arrived costs no suspension.
        if let known = result { return try known.get() }
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<PubAck, JetStreamError>, Never>) in
            let ready = state.withLock { s -> Result<PubAck, JetStreamError>? in
                if let result = s.result { return result }
                s.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
        return try outcome.get()
    }

    /// Records the outcome; only the first call counts. Returns whether it was the first.
    @discardableResult
    func complete(_ outcome: Result<PubAck, JetStreamError>) -> Bool {
        let waiters = state.withLock { s -> [CheckedContinuation<Result<PubAck, JetStreamError>, Never>]? in
            if s.result != nil { return nil }
            s.result = outcome
            let waiting = s.waiters
            s.waiters = []
            return waiting
        }
        guard let waiters else { return false }
        for waiter in waiters { waiter.resume(returning: outcome) }
        return true
    }
}
