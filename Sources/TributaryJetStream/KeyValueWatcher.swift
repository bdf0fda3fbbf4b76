import TributaryNATS

/// Settings of a watch (like nats.go's `WatchOpt`s).
public struct KeyValueWatchOptions: Sendable, Hashable {
    /// Default heartbeat of the consumer underneath: 5 s; two missed heartbeats (server restart,
    /// lost connection) make the watcher resume on a new consumer.
    public static let defaultIdleHeartbeat: Duration = .seconds(5)

    /// Send every stored revision of the watched keys first, not only the latest. Default false.
    public var includeHistory = false
    /// Leave out delete and purge markers. Default false.
    public var ignoreDeletes = false
    /// Send only changes made after the watch starts. Default false.
    public var updatesOnly = false
    /// Send entries without their values (headers only). Default false.
    public var metaOnly = false
    /// Start at this revision (every change from it on); nil for the latest values. Default nil.
    public var resumeFromRevision: UInt64?
    /// Heartbeat interval of the consumer underneath. Default `defaultIdleHeartbeat`.
    public var idleHeartbeat = KeyValueWatchOptions.defaultIdleHeartbeat

    /// Creates the default options.
    public init() {}
}

/// What a watch sends: an entry, or the marker that the initial values are all sent.
public enum KeyValueWatchEvent: Sendable, Hashable {
    /// A value, delete or purge of a watched key.
    case entry(KeyValueEntry)
    /// Every entry present when the watch started has been sent; what follows are changes.
    /// Sent exactly once per watch, even when there was nothing to send.
    case initialValuesDone

    /// The entry, or nil for the marker.
    public var entry: KeyValueEntry? {
        if case .entry(let entry) = self { return entry }
        return nil
    }
}

extension KeyValue {
    /// Watches keys matching `keys` (wildcards `*` and `>` allowed): first the current values
    /// (or history, or nothing, as the options say), then ``KeyValueWatchEvent/initialValuesDone``,
    /// then every change as it happens.
    ///
    /// The watch runs on an ordered consumer: after a reconnect, a server restart, missed
    /// heartbeats or a deleted consumer it resumes on a new consumer (new name) from the
    /// revision after the last one it sent, so nothing is missed or repeated.
    /// - Throws: `.invalidKey` for a bad filter; `.invalidArgument` for conflicting options;
    ///   `.bucketNotFound`.
    public func watch(keys: [String], options: KeyValueWatchOptions = KeyValueWatchOptions()) async throws(KeyValueError) -> KeyValueWatcher {
        guard !keys.isEmpty else {
            throw KeyValueError(.invalidArgument, "watch of bucket '\(bucket)' needs at least one key filter; use watchAll for every key", bucket: bucket)
        }
        for key in keys { try KeyValueNames.validateKey(key, bucket: bucket, allowWildcards: true) }
        if options.updatesOnly, options.includeHistory || options.resumeFromRevision != nil {
            throw KeyValueError(.invalidArgument, "watch of bucket '\(bucket)': updatesOnly cannot be combined with includeHistory or resumeFromRevision; choose one", bucket: bucket)
        }
        var ordered = JetStreamOrderedConsumerOptions()
        ordered.filterSubjects = keys.map { prefix + $0 }
        ordered.headersOnly = options.metaOnly
        ordered.idleHeartbeat = options.idleHeartbeat
        if let revision = options.resumeFromRevision {
            ordered.deliverPolicy = .byStartSequence
            ordered.startSequence = Swift.max(revision, 1)
        } else if options.updatesOnly {
            ordered.deliverPolicy = .new
        } else {
            ordered.deliverPolicy = options.includeHistory ? .all : .lastPerSubject
        }
        let messages: JetStreamOrderedMessages
        do {
            messages = try context.orderedConsumer(stream: streamName, options: ordered)
            try await messages.start()
        } catch {
            throw KeyValueError.wrap(error, "watch of bucket '\(bucket)'", bucket: bucket)
        }
        let pending = messages.currentConsumerInfo?.numPending ?? 1
        return KeyValueWatcher(bucket: bucket, messages: messages, ignoreDeletes: options.ignoreDeletes, initiallyEmpty: pending == 0)
    }

    /// Watches every key. See ``watch(keys:options:)``.
    public func watchAll(options: KeyValueWatchOptions = KeyValueWatchOptions()) async throws(KeyValueError) -> KeyValueWatcher {
        try await watch(keys: [">"], options: options)
    }
}

/// The events of a watch: an AsyncSequence that survives reconnects and server restarts.
///
/// Iterate from one task, once. Cancel the task, call ``stop()`` or ``close()`` to end it.
public final class KeyValueWatcher: AsyncSequence, Sendable {
    /// Entries and the end-of-initial-values marker.
    public typealias Element = KeyValueWatchEvent
    /// Why the sequence ended early.
    public typealias Failure = KeyValueError

    /// The bucket watched.
    public let bucket: String
    let messages: JetStreamOrderedMessages
    let ignoreDeletes: Bool
    let initiallyEmpty: Bool

    init(bucket: String, messages: JetStreamOrderedMessages, ignoreDeletes: Bool, initiallyEmpty: Bool) {
        self.bucket = bucket
        self.messages = messages
        self.ignoreDeletes = ignoreDeletes
        self.initiallyEmpty = initiallyEmpty
    }

    /// How many times the consumer underneath was recreated (restarts, reconnects, deletions).
    public var resumeCount: Int { messages.recreationCount }

    /// The name of the consumer underneath now.
    public var currentConsumerName: String { messages.currentConsumerName }

    /// Ends the watch and deletes its consumer in the background.
    public func stop() { messages.stop() }

    /// Ends the watch and waits until its consumers are deleted.
    public func close() async { await messages.close() }

    /// Iterates the events.
    public struct AsyncIterator: AsyncIteratorProtocol {
        /// Entries and the end-of-initial-values marker.
        public typealias Element = KeyValueWatchEvent
        /// Why the sequence ended early.
        public typealias Failure = KeyValueError

        let watcher: KeyValueWatcher
        var inner: JetStreamOrderedMessages.AsyncIterator
        var initial: KeyValueInitialValues

        /// The next event; nil after `stop()` or cancellation.
        public mutating func next() async throws(KeyValueError) -> KeyValueWatchEvent? {
            if initial.takeDueMarker() { return .initialValuesDone }
            while true {
                let message: JetStreamMessage?
                do {
                    message = try await inner.next()
                } catch {
                    throw KeyValueError.wrap(error, "watch of bucket '\(watcher.bucket)'", bucket: watcher.bucket)
                }
                guard let message else { return nil }
                guard let metadata = message.metadata,
                      let entry = KeyValueEntry.decode(subject: message.subject, headers: message.headers, payload: message.payload,
                                                       metadata: metadata, bucket: watcher.bucket) else { continue }
                let hidden = watcher.ignoreDeletes && entry.operation != .put
                switch initial.received(pending: metadata.pending, hidden: hidden) {
                case .deliver: return .entry(entry)
                case .marker: return .initialValuesDone
                case .skip: continue
                }
            }
        }
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(watcher: self, inner: messages.makeAsyncIterator(), initial: KeyValueInitialValues(initiallyEmpty: initiallyEmpty))
    }
}

/// When a watch sends its end-of-initial-values marker, pure (no I/O, no clock).
///
/// The initial values end with the message that has nothing pending after it (or at once when
/// the consumer had nothing pending when created); the marker is sent once, after that message,
/// even when that message itself is left out (`ignoreDeletes`). Consumer recreations do not
/// reset it.
struct KeyValueInitialValues: Equatable, Sendable {
    /// What to do with a received message.
    enum Step: Equatable, Sendable {
        /// Hand out the entry (the marker may be due next).
        case deliver
        /// Leave the entry out and send the marker instead.
        case marker
        /// Leave the entry out.
        case skip
    }

    /// The marker has been sent.
    private(set) var done = false
    /// The marker must be sent before the next message.
    private(set) var markerDue: Bool

    init(initiallyEmpty: Bool) {
        markerDue = initiallyEmpty
    }

    /// True (once) when the marker must be sent now, before waiting for a message.
    mutating func takeDueMarker() -> Bool {
        guard markerDue, !done else { return false }
        markerDue = false
        done = true
        return true
    }

    /// A message arrived with `pending` messages after it; `hidden` when it is to be left out.
    mutating func received(pending: UInt64, hidden: Bool) -> Step {
        let endsInitial = !done && pending == 0
        if hidden {
            guard endsInitial else { return .skip }
            done = true
            return .marker
        }
        if endsInitial { markerDue = true }
        return .deliver
    }
}
