import TributaryWire
import TributaryNATS

/// Settings of an ordered consumer (``JetStreamContext/orderedConsumer(stream:options:)``).
public struct JetStreamOrderedConsumerOptions: Sendable {
    /// Default idle heartbeat of its pull requests: 5 s (like nats.go's ordered consumer).
    public static let defaultIdleHeartbeat: Duration = .seconds(5)
    /// Default inactive threshold of each ephemeral consumer: 5 min (like nats.go).
    public static let defaultInactiveThreshold: Duration = .seconds(300)
    /// Default longest wait between attempts to recreate the consumer: 5 s.
    public static let defaultMaxRecreateWait: Duration = .seconds(5)

    /// Only messages on these subjects; empty for all. Default empty.
    public var filterSubjects: [String] = []
    /// Where to start. Default `.all`.
    public var deliverPolicy: DeliverPolicy = .all
    /// Start sequence for `.byStartSequence`.
    public var startSequence: UInt64?
    /// Start time for `.byStartTime` (RFC 3339).
    public var startTime: String?
    /// Deliver headers without payloads. Default false.
    public var headersOnly = false
    /// Replay speed. Default `.instant`.
    public var replayPolicy: ReplayPolicy = .instant
    /// Messages kept requested or buffered. Default `JetStreamPullOptions.defaultBatch`.
    public var batch = JetStreamPullOptions.defaultBatch
    /// Heartbeat interval; two missed heartbeats recreate the consumer. Default `defaultIdleHeartbeat`.
    public var idleHeartbeat = JetStreamOrderedConsumerOptions.defaultIdleHeartbeat
    /// The server removes an abandoned consumer after this. Default `defaultInactiveThreshold`.
    public var inactiveThreshold = JetStreamOrderedConsumerOptions.defaultInactiveThreshold
    /// Longest wait between attempts to recreate the consumer while JetStream does not answer
    /// (a server restart); waits start at 250 ms and double. Default `defaultMaxRecreateWait`.
    public var maxRecreateWait = JetStreamOrderedConsumerOptions.defaultMaxRecreateWait
    /// Prefix of the consumer names; default a random token. Each recreation appends `_<n>`.
    public var namePrefix: String?

    /// Creates the default options.
    public init() {}
}

extension JetStreamContext {
    /// An ordered consumer: the stream's messages, in order, without gaps or repeats, for replay
    /// and watching (ADR-17). Messages need no acknowledgement.
    ///
    /// It runs as a series of ephemeral, memory-stored consumers with `ackPolicy: .none`. A gap in
    /// consumer sequences, two missed heartbeats (server restart, reconnect, lost request) or a
    /// deleted consumer retire the current one (it is deleted, or expires after
    /// `inactiveThreshold`) and create the next under a new name, starting after the last
    /// stream sequence delivered. Creation is retried while JetStream does not answer.
    /// - Throws: `.invalidArgument` for a bad stream name or options.
    public func orderedConsumer(stream: String, options: JetStreamOrderedConsumerOptions = JetStreamOrderedConsumerOptions()) throws(JetStreamError) -> JetStreamOrderedMessages {
        try Self.validateName(stream, what: "stream")
        let prefix = options.namePrefix ?? Self.randomName()
        try Self.validateName(prefix, what: "consumer")
        guard options.batch >= 1, options.idleHeartbeat >= .milliseconds(100) else {
            throw JetStreamError(.invalidArgument, "ordered consumer: batch must be at least 1 and idleHeartbeat at least 100 ms", stream: stream)
        }
        return JetStreamOrderedMessages(context: self, stream: stream, options: options, namePrefix: prefix)
    }

    /// A random consumer-name token: 16 base-62 characters.
    static func randomName() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}

/// The messages of an ordered consumer: an AsyncSequence that survives server restarts and
/// deleted consumers. Iterate from one task at a time; cancel the task or call ``stop()`` to end.
public final class JetStreamOrderedMessages: AsyncSequence, Sendable {
    /// Delivered messages.
    public typealias Element = JetStreamMessage
    /// Why the sequence ended early.
    public typealias Failure = JetStreamError

    let context: JetStreamContext
    let stream: String
    let options: JetStreamOrderedConsumerOptions

    private struct State {
        var machine: OrderedConsumerMachine
        var current: JetStreamMessages?
        /// Set while the current consumer must be created (first use, or after a reset).
        var pendingStart: (name: String, startSequence: UInt64?)?
        var stopped = false
        var recreations = 0
        /// Background deletions of retired consumers, awaited by ``close()``.
        var deletions: [Int: Task<Void, Never>] = [:]
        var nextDeletion = 0
    }

    private let state: Locked<State>

    init(context: JetStreamContext, stream: String, options: JetStreamOrderedConsumerOptions, namePrefix: String) {
        self.context = context
        self.stream = stream
        self.options = options
        let machine = OrderedConsumerMachine(namePrefix: namePrefix)
        state = Locked(State(machine: machine, pendingStart: (machine.consumerName, nil)))
    }

    /// How many times the underlying consumer was recreated (gaps, restarts, deletions).
    public var recreationCount: Int { state.withLock { $0.recreations } }

    /// The name of the consumer currently in use.
    public var currentConsumerName: String { state.withLock { $0.machine.consumerName } }

    /// The creation info of the consumer currently in use (its `numPending` at creation), if one exists.
    var currentConsumerInfo: ConsumerInfo? { state.withLock { $0.current?.consumer.cachedInfo } }

    /// Ends the sequence and deletes the current consumer (best effort).
    public func stop() {
        let current = state.withLock { s -> JetStreamMessages? in
            s.stopped = true
            let current = s.current
            s.current = nil
            return current
        }
        if let current { retire(current) }
    }

    /// Ends the sequence and deletes the current consumer, waiting for the server's answer and
    /// for deletions already under way in the background (after ``stop()``, a cancelled
    /// iteration or a reset). Use it before a process exits.
    public func close() async {
        let current = state.withLock { s -> JetStreamMessages? in
            s.stopped = true
            let current = s.current
            s.current = nil
            return current
        }
        if let current {
            current.stop()
            try? await context.deleteConsumer(stream: stream, name: current.consumer.name)
        }
        // Deletions started in the background (a cancelled iteration, `stop()`, a reset) finish
        // before close returns, so a process that exits next leaves no consumer behind.
        let pending = state.withLock { s -> [Task<Void, Never>] in
            defer { s.deletions.removeAll() }
            return Array(s.deletions.values)
        }
        for deletion in pending { await deletion.value }
    }

    private func config(name: String, startSequence: UInt64?) -> ConsumerConfig {
        var config = ConsumerConfig(name: name, deliverPolicy: options.deliverPolicy, ackPolicy: AckPolicy.none, maxDeliver: 1,
                                    replayPolicy: options.replayPolicy, headersOnly: options.headersOnly ? true : nil,
                                    inactiveThreshold: options.inactiveThreshold, replicas: 1, memoryStorage: true)
        if options.filterSubjects.count == 1 {
            config.filterSubject = options.filterSubjects[0]
        } else if options.filterSubjects.count > 1 {
            config.filterSubjects = options.filterSubjects
        }
        if let startSequence {
            config.deliverPolicy = .byStartSequence
            config.optStartSeq = startSequence
        } else if options.deliverPolicy == .byStartSequence {
            config.optStartSeq = options.startSequence
        } else if options.deliverPolicy == .byStartTime {
            config.optStartTime = options.startTime
        }
        return config
    }

    /// Stops a retired consumer's pulls and deletes it without waiting (it expires anyway).
    private func retire(_ messages: JetStreamMessages) {
        messages.stop()
        let context = self.context
        let stream = self.stream
        let name = messages.consumer.name
        state.withLock { s in
            let id = s.nextDeletion
            s.nextDeletion += 1
            s.deletions[id] = Task { [weak self] in
                try? await context.deleteConsumer(stream: stream, name: name)
                self?.state.withLock { _ = $0.deletions.removeValue(forKey: id) }
            }
        }
    }

    /// Applies a reset action: retire the current consumer, remember what to create next.
    private func apply(_ action: OrderedConsumerMachine.Action, retiring current: JetStreamMessages?) {
        if case .recreate(let name, let start) = action {
            state.withLock { s in
                s.pendingStart = (name, start)
                s.current = nil
                s.recreations += 1
            }
        }
        if let current { retire(current) }
    }

    /// Creates the pending consumer, retrying with backoff while JetStream does not answer.
    private func createPending() async throws(JetStreamError) -> JetStreamMessages? {
        var wait: Duration = .milliseconds(250)
        while true {
            guard let (name, start) = state.withLock({ s -> (String, UInt64?)? in s.stopped ? nil : s.pendingStart }) else { return nil }
            do {
                let consumer = try await context.createConsumer(stream: stream, config: config(name: name, startSequence: start))
                var pull = JetStreamPullOptions()
                pull.batch = options.batch
                pull.idleHeartbeat = options.idleHeartbeat
                pull.expires = Swift.max(options.idleHeartbeat * 2, .seconds(30))
                let messages = JetStreamMessages(consumer: consumer, options: pull, endOnHeartbeatMiss: true)
                try messages.start()
                let keep = state.withLock { s -> Bool in
                    guard !s.stopped else { return false }
                    s.pendingStart = nil
                    s.current = messages
                    return true
                }
                if !keep {
                    retire(messages)
                    return nil
                }
                return messages
            } catch {
                switch error.code {
                case .streamNotFound, .invalidArgument, .cancelled:
                    throw error
                case .apiError where !error.isRetriable:
                    throw error
                default:
                    // JetStream not answering (restart, leader election): next name, wait, retry.
                    let action = state.withLock { $0.machine.creationFailed() }
                    apply(action, retiring: nil)
                    do {
                        try await Task.sleep(for: wait)
                    } catch {
                        throw JetStreamError(.cancelled, "ordered consumer on stream '\(stream)' was cancelled", stream: stream)
                    }
                    wait = Swift.min(wait * 2, options.maxRecreateWait)
                }
            }
        }
    }

    /// Creates the first underlying consumer now instead of on the first `next()`, so that a
    /// `.new` or `.last` start is taken from this moment (a tool can then announce it is ready).
    /// Does nothing when a consumer already exists or the sequence was stopped.
    /// - Throws: `.streamNotFound`, or a non-retriable API error from the consumer creation.
    public func start() async throws(JetStreamError) {
        let existing = state.withLock { $0.current }
        if existing == nil { _ = try await createPending() }
    }

    func nextMessage() async throws(JetStreamError) -> JetStreamMessage? {
        while true {
            if Task.isCancelled {
                stop()
                return nil
            }
            let (stopped, existing) = state.withLock { ($0.stopped, $0.current) }
            if stopped { return nil }
            var current = existing
            if current == nil { current = try await createPending() }
            guard let current else { return nil }
            let message: NATSMessage?
            do {
                message = try await current.nextMessage()
            } catch {
                switch error.code {
                case .heartbeatsMissed:
                    apply(state.withLock { $0.machine.heartbeatsMissed() }, retiring: current)
                    continue
                case .consumerDeleted:
                    apply(state.withLock { $0.machine.consumerDeleted() }, retiring: current)
                    continue
                default:
                    throw error
                }
            }
            guard let message else {
                // The pull ended without error: stopped or cancelled.
                if Task.isCancelled || state.withLock({ $0.stopped }) { stop(); return nil }
                apply(state.withLock { $0.machine.heartbeatsMissed() }, retiring: current)
                continue
            }
            guard let reply = message.replyTo, let metadata = JetStreamMessageMetadata(replySubject: reply) else { continue }
            let action = state.withLock {
                $0.machine.messageReceived(consumer: metadata.consumer, streamSequence: metadata.streamSequence, consumerSequence: metadata.consumerSequence)
            }
            switch action {
            case .deliver: return JetStreamMessage(message: message, client: context.client)
            case .ignore: continue
            case .recreate: apply(action, retiring: current)
            }
        }
    }

    /// Iterates the messages.
    public struct AsyncIterator: AsyncIteratorProtocol {
        /// Delivered messages.
        public typealias Element = JetStreamMessage
        /// Why the sequence ended early.
        public typealias Failure = JetStreamError
        let messages: JetStreamOrderedMessages

        /// The next message in stream order; nil after `stop()` or cancellation.
        public mutating func next() async throws(JetStreamError) -> JetStreamMessage? {
            try await messages.nextMessage()
        }
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(messages: self)
    }
}
