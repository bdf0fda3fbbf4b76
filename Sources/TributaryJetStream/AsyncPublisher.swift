import TributaryWire
@_spi(TributaryInternal) import TributaryNATS

/// The async-publish machinery of a context: one reply inbox, a bounded window of pending
/// acknowledgements, and one timer task (alive only while something is pending) that fails
/// acknowledgements and window waits past their deadline.
///
/// Lock order: `setup` before `state`; neither is held while calling the NATS client's
/// publish, resuming continuations or completing handles.
final class AsyncPublisher: Sendable {
    let client: NATSClient
    let window: Int
    let ackTimeout: Duration
    let windowWait: Duration

    private struct Pending {
        let handle: JetStreamPublishHandle
        let stream: String?
        let deadline: ContinuousClock.Instant
    }

    private struct WindowWaiter {
        let id: UInt64
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Result<Void, JetStreamError>, Never>
    }

    private struct State {
        /// Pending acknowledgements by token; one timeout for all, so deadlines follow token order.
        var pending: PendingPublishRing<Pending>
        /// Window slots taken by publishes between reservation and registration.
        var reserved = 0
        var nextWaiterID: UInt64 = 0
        var windowWaiters: [WindowWaiter] = []
        var allWaiters: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var timerRunning = false

        var inFlight: Int { pending.count + reserved }
    }

    /// The reply prefix (`<inbox>.`) and its subscription to `<inbox>.*`, made on first use.
    private let setup = Locked<(prefix: String, subscription: NATSSubscription)?>(nil)
    private let state: Locked<State>

    init(client: NATSClient, window: Int, ackTimeout: Duration, windowWait: Duration) {
        self.client = client
        self.window = window
        self.ackTimeout = ackTimeout
        self.windowWait = windowWait
        // Twice the window: acknowledgements arriving a little out of order stay in the ring.
        state = Locked(State(pending: PendingPublishRing(minimumCapacity: min(window, 1 << 16) * 2)))
    }

    var pendingCount: Int { state.withLock { $0.inFlight } }

    /// The reply prefix, subscribing `<inbox>.*` on first use.
    private func replyPrefix() throws(JetStreamError) -> String {
        try setup.withLock { (current) throws(JetStreamError) -> String in
            if let current { return current.prefix }
            let inbox = client.newInbox()
            let prefix = inbox + "."
            do throws(NATSError) {
                // Acknowledgements are matched on the connection's I/O thread: a short, non-blocking
                // step (a lookup, a parse, resuming continuations) that runs no user code.
                let subscription = try client.subscribeOnIOThread(to: inbox + ".*", handler: { [weak self] message in
                    self?.acknowledgementArrived(message)
                })
                current = (prefix, subscription)
            } catch {
                throw JetStreamError.fromNATS(error, apiSubject: nil)
            }
            return prefix
        }
    }

    func publish(_ payload: [UInt8], to subject: String, headers: NATSHeaders?, stream: String?) async throws(JetStreamError) -> JetStreamPublishHandle {
        let prefix = try replyPrefix()
        try await reserveSlot(subject: subject)
        let handle = JetStreamPublishHandle(subject: subject)
        let deadline = ContinuousClock.now.advanced(by: ackTimeout)
        let (token, startTimer) = state.withLock { s -> (UInt64, Bool) in
            s.reserved -= 1
            let token = s.pending.insert(Pending(handle: handle, stream: stream, deadline: deadline))
            let start = !s.timerRunning
            s.timerRunning = true
            return (token, start)
        }
        if startTimer { runTimer() }
        do {
            // Suspends (without blocking a thread) while the outbound buffer is full, so a
            // window of large messages (object chunks) meets backpressure instead of an error.
            try await client.publishWaiting(payload, to: subject, replyTo: prefix + String(token), headers: headers)
        } catch {
            let failure = JetStreamError.fromNATS(error, apiSubject: subject, stream: stream, domainHint: false)
            finish(token: token, with: .failure(failure))
            throw failure
        }
        return handle
    }

    private func reserveSlot(subject: String) async throws(JetStreamError) {
        let id = state.withLock { s -> UInt64? in
            if s.inFlight < window && s.windowWaiters.isEmpty {
                s.reserved += 1
                return nil
            }
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        guard let id else { return }
        let deadline = ContinuousClock.now.advanced(by: windowWait)
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, JetStreamError>, Never>) in
                let (immediate, startTimer) = state.withLock { s -> (Result<Void, JetStreamError>?, Bool) in
                    if Task.isCancelled { return (.failure(Self.cancelled(subject)), false) }
                    if s.inFlight < window && s.windowWaiters.isEmpty {
                        s.reserved += 1
                        return (.success(()), false)
                    }
                    s.windowWaiters.append(WindowWaiter(id: id, deadline: deadline, continuation: continuation))
                    let start = !s.timerRunning
                    s.timerRunning = true
                    return (nil, start)
                }
                if let immediate { continuation.resume(returning: immediate) }
                if startTimer { runTimer() }
            }
        } onCancel: {
            let waiter = state.withLock { s -> WindowWaiter? in
                guard let index = s.windowWaiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.windowWaiters.remove(at: index)
            }
            waiter?.continuation.resume(returning: .failure(Self.cancelled(subject)))
        }
        try outcome.get()
    }

    private static func cancelled(_ subject: String) -> JetStreamError {
        JetStreamError(.cancelled, "async publish to '\(subject)' was cancelled while waiting for room in the window; nothing was sent", apiSubject: subject)
    }

    /// Runs on the connection's I/O thread: match the reply to its publish and complete it.
    private func acknowledgementArrived(_ message: NATSMessage) {
        guard let dot = message.subject.utf8.lastIndex(of: UInt8(ascii: ".")),
              let token = UInt64(Substring(message.subject.utf8[message.subject.utf8.index(after: dot)...])) else { return }
        guard let (entry, wake) = take(token: token) else { return }
        let subject = message.subject
        let outcome: Result<PubAck, JetStreamError>
        if message.status == 503 {
            outcome = .failure(JetStreamError(.noResponders, "no stream acknowledged an async publish; create a stream for the subject, or wait for JetStream to become available",
                                              apiSubject: subject, stream: entry.stream, status: 503))
        } else if let ack = PubAckFastPath.parse(message.payload) {
            outcome = .success(ack)
        } else {
            do {
                outcome = .success(try JetStreamContext.decodeResponse(message.payload, as: PubAck.self, apiSubject: subject, stream: entry.stream, consumer: nil))
            } catch {
                outcome = .failure(error)
            }
        }
        entry.handle.complete(outcome)
        wake.resume()
    }

    /// Whom to wake after a pending publish ended: the next window waiter, and the all-done waiters.
    private struct Wake {
        var windowWaiters: [WindowWaiter] = []
        var allWaiters: [CheckedContinuation<Void, Never>] = []

        func resume() {
            for waiter in windowWaiters { waiter.continuation.resume(returning: .success(())) }
            for waiter in allWaiters { waiter.resume() }
        }
    }

    /// Removes one pending publish and frees its slot; nil when it already ended.
    private func take(token: UInt64) -> (Pending, Wake)? {
        state.withLock { s -> (Pending, Wake)? in
            guard let entry = s.pending.remove(token) else { return nil }
            return (entry, Self.freed(&s, window: window))
        }
    }

    /// After slots were freed: hands them to the first window waiters, and collects the waiters
    /// for "all acknowledged" when nothing is left.
    private static func freed(_ s: inout State, window: Int) -> Wake {
        var wake = Wake()
        while !s.windowWaiters.isEmpty, s.inFlight < window {
            wake.windowWaiters.append(s.windowWaiters.removeFirst())
            s.reserved += 1
        }
        if s.inFlight == 0 {
            wake.allWaiters = s.allWaiters.map(\.continuation)
            s.allWaiters = []
        }
        return wake
    }

    /// Ends one pending publish with `outcome` (a failed send).
    private func finish(token: UInt64, with outcome: Result<PubAck, JetStreamError>) {
        guard let (entry, wake) = take(token: token) else { return }
        entry.handle.complete(outcome)
        wake.resume()
    }

    func waitForAll() async throws(JetStreamError) {
        let id = state.withLock { s -> UInt64 in
            s.nextWaiterID += 1
            return s.nextWaiterID
        }
        let cancelled = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = state.withLock { s -> Bool in
                    if s.inFlight == 0 || Task.isCancelled { return true }
                    s.allWaiters.append((id, continuation))
                    return false
                }
                if done { continuation.resume() }
            }
            return Task.isCancelled
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
                guard let index = s.allWaiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.allWaiters.remove(at: index).continuation
            }
            waiter?.resume()
        }
        if cancelled {
            throw JetStreamError(.cancelled, "waiting for pending publishes was cancelled; they continue and end on their own")
        }
    }

    /// Starts the deadline timer. It runs while acknowledgements or window waits are pending,
    /// sleeping until the earliest deadline each time, and exits when nothing is left.
    private func runTimer() {
        Task { [self] in
            while let next = nextDeadline() {
                try? await Task.sleep(until: next, clock: .continuous)
                expire(now: .now)
            }
        }
    }

    /// The earliest deadline, or nil after marking the timer stopped (atomically, so a publish
    /// racing with the exit starts a new timer).
    private func nextDeadline() -> ContinuousClock.Instant? {
        state.withLock { s -> ContinuousClock.Instant? in
            let ack = s.pending.oldest?.deadline
            let wait = s.windowWaiters.map(\.deadline).min()
            guard let next = [ack, wait].compactMap({ $0 }).min() else {
                s.timerRunning = false
                return nil
            }
            return next
        }
    }

    private func expire(now: ContinuousClock.Instant) {
        let (expired, expiredWaiters, wake) = state.withLock { s -> ([Pending], [WindowWaiter], Wake) in
            let expired = s.pending.removeOldest { $0.deadline <= now }.map(\.entry)
            let late = s.windowWaiters.filter { $0.deadline <= now }
            s.windowWaiters.removeAll { $0.deadline <= now }
            return (expired, late, expired.isEmpty ? Wake() : Self.freed(&s, window: window))
        }
        for waiter in expiredWaiters {
            waiter.continuation.resume(returning: .failure(JetStreamError(.publishWindowFull,
                "the async publish window (\(window) pending acknowledgements) stayed full for \(windowWait); wait for acknowledgements, or raise maxPendingAsyncPublishes")))
        }
        for entry in expired {
            entry.handle.complete(.failure(JetStreamError(.timeout,
                "no acknowledgement for an async publish within \(ackTimeout); the message may or may not be stored. Check the stream, or raise requestTimeout")))
        }
        wake.resume()
    }
}
