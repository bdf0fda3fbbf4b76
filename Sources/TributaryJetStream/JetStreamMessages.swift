import TributaryWire
import TributaryNATS

/// Something a continuous pull noticed that did not end it.
public enum JetStreamPullEvent: Sendable, CustomStringConvertible {
    /// Two idle heartbeats were missed; a new pull request was sent.
    case heartbeatsMissed
    /// The consumer's leader changed (409 Leadership Change); a new pull request was sent.
    case leadershipChanged
    /// The connection was re-established; a new pull request was sent (the old one may have
    /// gone with the server).
    case reconnected
    /// The server refused or cut a request without ending the pull (409 Exceeded MaxWaiting,
    /// Message Size Exceeds MaxBytes…).
    case warning(status: Int, description: String)

    /// What happened.
    public var description: String {
        switch self {
        case .heartbeatsMissed: return "idle heartbeats missed; pulling again"
        case .leadershipChanged: return "consumer leadership changed; pulling again"
        case .reconnected: return "reconnected; pulling again"
        case .warning(let status, let text): return "pull warning \(status) \(text)"
        }
    }
}

/// A continuous pull from a consumer: an AsyncSequence of ``JetStreamMessage``.
///
/// Messages requested or buffered stay within `batch` (and `maxBytes`): a new request is sent
/// once consumption brings them down to the threshold, so a slow loop never makes the buffer grow.
/// Iterate from one task at a time.
public final class JetStreamMessages: AsyncSequence, Sendable {
    /// Delivered messages.
    public typealias Element = JetStreamMessage
    /// Why the sequence ended early.
    public typealias Failure = JetStreamError

    let consumer: JetStreamConsumer
    let options: JetStreamPullOptions
    let inbox: String
    /// End with `.heartbeatsMissed` instead of pulling again (ordered consumers recreate instead).
    let endOnHeartbeatMiss: Bool
    private let eventContinuation: AsyncStream<JetStreamPullEvent>.Continuation
    /// Heartbeat misses, leadership changes and warnings (the newest 64 are kept if nobody reads).
    public let events: AsyncStream<JetStreamPullEvent>

    private struct State {
        var accounting: PullRequestAccounting
        var buffer: [NATSMessage] = []
        var head = 0
        var waiter: CheckedContinuation<Result<NATSMessage?, JetStreamError>, Never>?
        var subscription: NATSSubscription?
        var finished = false
        var failure: JetStreamError?
        var lastActivity: ContinuousClock.Instant = .now
        var timer: Task<Void, Never>?
        var reconnectWatch: Task<Void, Never>?
    }

    private let state: Locked<State>

    init(consumer: JetStreamConsumer, options: JetStreamPullOptions, endOnHeartbeatMiss: Bool = false) {
        self.consumer = consumer
        self.endOnHeartbeatMiss = endOnHeartbeatMiss
        self.options = options
        self.inbox = consumer.context.client.newInbox()
        let threshold = Swift.min(options.thresholdMessages ?? options.batch / 2, options.batch - 1)
        state = Locked(State(accounting: PullRequestAccounting(batch: options.batch, maxBytes: options.maxBytes,
                                                             thresholdMessages: Swift.max(0, threshold))))
        (events, eventContinuation) = AsyncStream.makeStream(of: JetStreamPullEvent.self, bufferingPolicy: .bufferingNewest(64))
    }

    func start() throws(JetStreamError) {
        let client = consumer.context.client
        let subscription: NATSSubscription
        do {
            subscription = try client.subscribe(to: inbox) { [weak self] message in
                self?.arrived(message)
            }
        } catch {
            throw JetStreamError.fromNATS(error, apiSubject: consumer.nextSubject, stream: consumer.stream, consumer: consumer.name)
        }
        state.withLock {
            $0.subscription = subscription
            $0.lastActivity = .now
        }
        pullIfNeeded()
        let timer = Task { [weak self] in
            while let deadline = self?.heartbeatDeadline() {
                try? await Task.sleep(until: deadline, clock: .continuous)
                if Task.isCancelled { return }
                self?.heartbeatCheck(now: .now)
            }
        }
        // After a reconnect the server may have lost the pull request (a restart, a failover):
        // pull again at once instead of waiting for two missed heartbeats.
        let connectionEvents = client.eventStream(bufferingNewest: 8)
        let reconnectWatch = Task { [weak self] in
            for await event in connectionEvents {
                if case .reconnected = event { self?.reconnected() }
                if self == nil { return }
            }
        }
        let stopped = state.withLock { s -> Bool in
            s.timer = timer
            s.reconnectWatch = reconnectWatch
            return s.finished
        }
        if stopped {
            timer.cancel()
            reconnectWatch.cancel()
        }
    }

    private func reconnected() {
        let pull = state.withLock { s -> Bool in
            guard !s.finished else { return false }
            s.accounting.reset()
            s.lastActivity = .now
            return true
        }
        guard pull else { return }
        if endOnHeartbeatMiss {
            finish(with: JetStreamError(.heartbeatsMissed, "the connection was re-established; the pull of consumer '\(consumer.name)' starts over",
                                        apiSubject: consumer.nextSubject, stream: consumer.stream, consumer: consumer.name))
            return
        }
        eventContinuation.yield(.reconnected)
        pullIfNeeded()
    }

    /// Stops pulling: unsubscribes and ends the sequence after messages already buffered.
    /// Buffered messages not consumed are redelivered by the server after their ack wait.
    public func stop() {
        finish(with: nil)
    }

    // MARK: Driver

    /// Sends a pull request when the accounting asks for one.
    private func pullIfNeeded() {
        let request = state.withLock { s -> (batch: Int, maxBytes: Int?)? in
            guard !s.finished, let request = s.accounting.takeNextRequest() else { return nil }
            // Heartbeats are owed from this request on.
            s.lastActivity = .now
            return request
        }
        guard let request else { return }
        let context = consumer.context
        let subject = consumer.nextSubject
        let body = PullRequest(batch: request.batch, maxBytes: request.maxBytes, expires: options.expires, idleHeartbeat: options.idleHeartbeat)
        do throws(NATSError) {
            try context.client.publish(body.wireJSON, to: subject, replyTo: inbox)
        } catch {
            // Disconnected with a full buffer: forget the request; the heartbeat check pulls again.
            state.withLock { $0.accounting.reset() }
            if error.isConnectionFatal, error.code == .connectionClosed {
                finish(with: JetStreamError.fromNATS(error, apiSubject: subject, stream: consumer.stream, consumer: consumer.name))
            }
        }
    }

    /// Runs on the connection's I/O thread for every message on the inbox.
    private func arrived(_ message: NATSMessage) {
        let headers = message.headers
        let status = PullStatus(status: message.status, description: headers?.statusDescription,
                                pendingMessages: headers?[JetStreamHeader.pendingMessages], pendingBytes: headers?[JetStreamHeader.pendingBytes])
        enum Next { case none, pull, event(JetStreamPullEvent, pull: Bool), fail(JetStreamError) }
        var handOff: (CheckedContinuation<Result<NATSMessage?, JetStreamError>, Never>, NATSMessage)?
        let next = state.withLock { s -> Next in
            if s.finished { return .none }
            s.lastActivity = .now
            switch status {
            case nil:
                if let waiter = s.waiter {
                    s.waiter = nil
                    s.accounting.messageDelivered(size: message.byteCount)
                    handOff = (waiter, message)
                    return .pull
                }
                s.buffer.append(message)
                return .none
            case .heartbeat?:
                return .none
            case .noMessages(let messages, let bytes)?, .requestExpired(let messages, let bytes)?:
                s.accounting.requestEnded(pendingMessages: messages, pendingBytes: bytes)
                return .pull
            case .requestEnded(let messages, let bytes, let reason)?:
                s.accounting.requestEnded(pendingMessages: messages, pendingBytes: bytes)
                return reason.lowercased().hasPrefix("message size") ? .event(.warning(status: 409, description: reason), pull: true) : .pull
            case .leadershipChange?:
                s.accounting.reset()
                return .event(.leadershipChanged, pull: true)
            case .serverShutdown?:
                // The request is gone with the server; a new one waits in the reconnect buffer.
                s.accounting.reset()
                return .event(.warning(status: 409, description: headers?.statusDescription ?? "Server Shutdown"), pull: true)
            case .noResponders?:
                if endOnHeartbeatMiss {
                    return .fail(JetStreamError(.consumerDeleted, "nothing received the pull request for consumer '\(consumer.name)'; it no longer exists",
                                                apiSubject: consumer.nextSubject, stream: consumer.stream, consumer: consumer.name, status: 503))
                }
                // The consumer is missing or JetStream is down: pull again after the heartbeat
                // interval rather than at once.
                s.accounting.reset()
                return .event(.warning(status: 503, description: "no responders for the pull request"), pull: false)
            case .consumerDeleted?:
                return .fail(JetStreamError(.consumerDeleted, "consumer '\(consumer.name)' of stream '\(consumer.stream)' was deleted; recreate it and start again",
                                            apiSubject: consumer.nextSubject, stream: consumer.stream, consumer: consumer.name, status: 409))
            case .refused(let code, let text)?:
                if text.lowercased().hasPrefix("exceeded maxwaiting") {
                    // Too many waiting requests on the consumer: this one is gone; the heartbeat
                    // check pulls again later rather than adding to the crowd now.
                    s.accounting.reset()
                    return .event(.warning(status: code, description: text), pull: false)
                }
                return .fail(JetStreamError(.pullRequestRefused, "the server refused the pull request: \(code) \(text); check batch, expiry and max bytes against the consumer's limits",
                                            apiSubject: consumer.nextSubject, stream: consumer.stream, consumer: consumer.name, status: code, serverDescription: text))
            }
        }
        if let (waiter, message) = handOff {
            waiter.resume(returning: .success(message))
        }
        switch next {
        case .none: break
        case .pull: pullIfNeeded()
        case .event(let event, let pull):
            eventContinuation.yield(event)
            if pull { pullIfNeeded() }
        case .fail(let error): finish(with: error)
        }
    }

    private func heartbeatDeadline() -> ContinuousClock.Instant? {
        state.withLock { s in s.finished ? nil : s.lastActivity.advanced(by: options.idleHeartbeat * 2) }
    }

    private func heartbeatCheck(now: ContinuousClock.Instant) {
        let missed = state.withLock { s -> Bool in
            guard !s.finished, now - s.lastActivity >= options.idleHeartbeat * 2 else { return false }
            // Everything requested is already here, waiting for a slow loop: no request is open,
            // so the server owes no heartbeat. Pulling again now would grow the buffer past `batch`.
            let buffered = s.buffer.count - s.head
            if buffered > 0, buffered >= s.accounting.pendingMessages {
                s.lastActivity = now
                return false
            }
            s.accounting.reset()
            s.lastActivity = now
            return true
        }
        guard missed else { return }
        if endOnHeartbeatMiss {
            finish(with: JetStreamError(.heartbeatsMissed, "the pull request of consumer '\(consumer.name)' missed two idle heartbeats (\(options.idleHeartbeat) apart)",
                                        apiSubject: consumer.nextSubject, stream: consumer.stream, consumer: consumer.name))
            return
        }
        eventContinuation.yield(.heartbeatsMissed)
        pullIfNeeded()
    }

    private func finish(with error: JetStreamError?) {
        let (waiter, subscription, tasks) = state.withLock { s -> (CheckedContinuation<Result<NATSMessage?, JetStreamError>, Never>?, NATSSubscription?, [Task<Void, Never>]) in
            if s.finished { return (nil, nil, []) }
            s.finished = true
            s.failure = error
            let waiter = s.waiter
            s.waiter = nil
            if waiter != nil { s.failure = nil }
            return (waiter, s.subscription, [s.timer, s.reconnectWatch].compactMap { $0 })
        }
        subscription?.unsubscribe()
        for task in tasks { task.cancel() }
        eventContinuation.finish()
        if let waiter {
            waiter.resume(returning: error.map { .failure($0) } ?? .success(nil))
        }
    }

    // MARK: Consumer side

    func nextMessage() async throws(JetStreamError) -> NATSMessage? {
        enum Step { case message(NATSMessage), done(JetStreamError?), wait }
        let step = state.withLock { s -> Step in
            if s.head < s.buffer.count {
                let message = s.buffer[s.head]
                s.head += 1
                if s.head == s.buffer.count {
                    s.buffer.removeAll(keepingCapacity: true)
                    s.head = 0
                } else if s.head >= 32, s.head * 2 >= s.buffer.count {
                    // A buffer that never drains completely (arrivals keep pace with the loop)
                    // must still release consumed messages, or it holds every message ever pulled.
                    s.buffer.removeFirst(s.head)
                    s.head = 0
                }
                s.accounting.messageDelivered(size: message.byteCount)
                return .message(message)
            }
            if s.finished {
                let failure = s.failure
                s.failure = nil
                return .done(failure)
            }
            return .wait
        }
        switch step {
        case .message(let message):
            pullIfNeeded()
            return message
        case .done(let failure):
            if let failure { throw failure }
            return nil
        case .wait:
            let result = await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Result<NATSMessage?, JetStreamError>, Never>) in
                    let immediate = state.withLock { s -> Result<NATSMessage?, JetStreamError>? in
                        if s.head < s.buffer.count {
                            let message = s.buffer[s.head]
                            s.head += 1
                            s.accounting.messageDelivered(size: message.byteCount)
                            return .success(message)
                        }
                        if s.finished {
                            let failure = s.failure
                            s.failure = nil
                            return failure.map { .failure($0) } ?? .success(nil)
                        }
                        if Task.isCancelled { return .success(nil) }
                        s.waiter = continuation
                        return nil
                    }
                    if let immediate { continuation.resume(returning: immediate) }
                }
            } onCancel: {
                self.stop()
            }
            if Task.isCancelled { stop() }
            let message = try result.get()
            if message != nil { pullIfNeeded() }
            return message
        }
    }

    /// Iterates the messages.
    public struct AsyncIterator: AsyncIteratorProtocol {
        /// Delivered messages.
        public typealias Element = JetStreamMessage
        /// Why the sequence ended early.
        public typealias Failure = JetStreamError
        let messages: JetStreamMessages

        /// The next message; nil after `stop()` or cancellation; throws what ended the pull.
        public mutating func next() async throws(JetStreamError) -> JetStreamMessage? {
            guard let message = try await messages.nextMessage() else { return nil }
            return JetStreamMessage(message: message, client: messages.consumer.context.client)
        }
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(messages: self)
    }
}
