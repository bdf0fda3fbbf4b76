import Synchronization
import TributaryNATS

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
    }

    private struct WindowWaiter {
        let id: UInt64
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Result<Void, JetStreamError>, Never>
    }

    private struct State {
        var nextToken: UInt64 = 0
        var pending: [UInt64: Pending] = [:]
        /// Acknowledgement deadlines in publish order (one timeout for all, so already sorted).
        var deadlines: [(token: UInt64, deadline: ContinuousClock.Instant)] = []
        var deadlineHead = 0
        /// Window slots taken by publishes between reservation and registration.
        var reserved = 0
        var windowWaiters: [WindowWaiter] = []
        var allWaiters: [(id: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
        var timerRunning = false

        var inFlight: Int { pending.count + reserved }
    }

    private let setup = Mutex<(prefix: String, subscription: NATSSubscription)?>(nil)
    private let state = Mutex(State())

    init(client: NATSClient, window: Int, ackTimeout: Duration, windowWait: Duration) {
        self.client = client
        self.window = window
        self.ackTimeout = ackTimeout
        self.windowWait = windowWait
    }

    var pendingCount: Int { state.withLock { $0.inFlight } }

    /// The reply prefix, subscribing `<inbox>.*` on first use.
    private func replyPrefix() throws(JetStreamError) -> String {
        try setup.withLock { (current) throws(JetStreamError) -> String in
            if let current { return current.prefix }
            let prefix = client.newInbox()
            do throws(NATSError) {
                let subscription = try client.subscribe(to: prefix + ".*") { [weak self] message in
                    self?.acknowledgementArrived(message)
                }
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
        let (token, startTimer) = state.withLock { s -> (UInt64, Bool) in
            s.reserved -= 1
            s.nextToken += 1
            let token = s.nextToken
            s.pending[token] = Pending(handle: handle, stream: stream)
            s.deadlines.append((token, ContinuousClock.now.advanced(by: ackTimeout)))
            let start = !s.timerRunning
            s.timerRunning = true
            return (token, start)
        }
        if startTimer { runTimer() }
        do {
            // Suspends (without blocking a thread) while the outbound buffer is full, so a
            // window of large messages (object chunks) meets backpressure instead of an error.
            try await client.publishWaiting(payload, to: subject, replyTo: prefix + "." + String(token), headers: headers)
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
            s.nextToken += 1
            return s.nextToken
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
        guard let dot = message.subject.lastIndex(of: "."), let token = UInt64(message.subject[message.subject.index(after: dot)...]) else { return }
        let stream = state.withLock { $0.pending[token]?.stream }
        let subject = message.subject
        let outcome: Result<PubAck, JetStreamError>
        if message.status == 503 {
            outcome = .failure(JetStreamError(.noResponders, "no stream acknowledged an async publish; create a stream for the subject, or wait for JetStream to become available",
                                              apiSubject: subject, stream: stream, status: 503))
        } else if let ack = PubAckFastPath.parse(message.payload) {
            outcome = .success(ack)
        } else {
            do {
                outcome = .success(try JetStreamContext.decodeResponse(message.payload, as: PubAck.self, apiSubject: subject, stream: stream, consumer: nil))
            } catch {
                outcome = .failure(error)
            }
        }
        finish(token: token, with: outcome)
    }

    /// Ends one pending publish, frees its slot, and wakes whoever waits for room or for all.
    private func finish(token: UInt64, with outcome: Result<PubAck, JetStreamError>) {
        let (entry, windowWaiter, allWaiters) = state.withLock { s -> (Pending?, WindowWaiter?, [CheckedContinuation<Void, Never>]) in
            guard let entry = s.pending.removeValue(forKey: token) else { return (nil, nil, []) }
            var next: WindowWaiter?
            if !s.windowWaiters.isEmpty, s.inFlight < window {
                next = s.windowWaiters.removeFirst()
                s.reserved += 1
            }
            var all: [CheckedContinuation<Void, Never>] = []
            if s.inFlight == 0 {
                all = s.allWaiters.map(\.continuation)
                s.allWaiters = []
            }
            return (entry, next, all)
        }
        entry?.handle.complete(outcome)
        windowWaiter?.continuation.resume(returning: .success(()))
        for waiter in allWaiters { waiter.resume() }
    }

    func waitForAll() async throws(JetStreamError) {
        let id = state.withLock { s -> UInt64 in
            s.nextToken += 1
            return s.nextToken
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
            while s.deadlineHead < s.deadlines.count, s.pending[s.deadlines[s.deadlineHead].token] == nil {
                s.deadlineHead += 1
            }
            if s.deadlineHead > 1024, s.deadlineHead * 2 > s.deadlines.count {
                s.deadlines.removeFirst(s.deadlineHead)
                s.deadlineHead = 0
            }
            let ack = s.deadlineHead < s.deadlines.count ? s.deadlines[s.deadlineHead].deadline : nil
            let wait = s.windowWaiters.map(\.deadline).min()
            guard let next = [ack, wait].compactMap({ $0 }).min() else {
                s.deadlines.removeAll(keepingCapacity: true)
                s.deadlineHead = 0
                s.timerRunning = false
                return nil
            }
            return next
        }
    }

    private func expire(now: ContinuousClock.Instant) {
        let (expiredTokens, expiredWaiters) = state.withLock { s -> ([UInt64], [WindowWaiter]) in
            var tokens: [UInt64] = []
            var index = s.deadlineHead
            while index < s.deadlines.count, s.deadlines[index].deadline <= now {
                if s.pending[s.deadlines[index].token] != nil { tokens.append(s.deadlines[index].token) }
                index += 1
            }
            s.deadlineHead = index
            let late = s.windowWaiters.filter { $0.deadline <= now }
            s.windowWaiters.removeAll { $0.deadline <= now }
            return (tokens, late)
        }
        for waiter in expiredWaiters {
            waiter.continuation.resume(returning: .failure(JetStreamError(.publishWindowFull,
                "the async publish window (\(window) pending acknowledgements) stayed full for \(windowWait); wait for acknowledgements, or raise maxPendingAsyncPublishes")))
        }
        for token in expiredTokens {
            finish(token: token, with: .failure(JetStreamError(.timeout,
                "no acknowledgement for an async publish within \(ackTimeout); the message may or may not be stored. Check the stream, or raise requestTimeout")))
        }
    }
}
