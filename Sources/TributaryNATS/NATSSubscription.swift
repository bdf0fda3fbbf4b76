import Synchronization
import TributaryNATSProtocol

/// A subscription: an `AsyncSequence` of messages with a bounded pending queue.
///
/// Messages beyond `maxPendingMessages` or `maxPendingBytes` are dropped, counted in
/// `droppedCount` and reported as a `.slowConsumer` error event. Cancelling the consuming task
/// unsubscribes. Iterate from one task at a time.
public final class NATSSubscription: AsyncSequence, Sendable {
    public typealias Element = NATSMessage
    public typealias Failure = NATSError

    /// The subscription id on the wire.
    public let sid: UInt64
    /// The subject (may contain wildcards).
    public let subject: String
    /// The queue group, if any.
    public let queue: String?
    /// Pending message limit.
    public let maxPendingMessages: Int
    /// Pending byte limit.
    public let maxPendingBytes: Int

    let core: ConnectionCore
    let state: Mutex<SubscriptionState>

    struct SubscriptionState {
        var queue: [NATSMessage] = []
        var head = 0
        var pendingBytes = 0
        var dropped = 0
        var droppedSinceReport = 0
        var delivered = 0
        var waiter: CheckedContinuation<Result<NATSMessage?, NATSError>, Never>?
        var finished = false
        var failure: NATSError?

        var pendingCount: Int { queue.count - head }

        /// Moves queued messages to the consumer's local batch: the whole queue by swapping
        /// storage when possible (no per-message copies), else up to `max` of them.
        /// Returns the index in `local` of the first message not yet consumed.
        @discardableResult
        mutating func popBatch(into local: inout [NATSMessage], max: Int) -> Int {
            if local.isEmpty, max > 1 {
                let start = head
                swap(&queue, &local)
                head = 0
                pendingBytes = 0
                return start
            }
            let end = Swift.min(queue.count, head + max)
            local.append(contentsOf: queue[head..<end])
            for message in queue[head..<end] { pendingBytes -= message.byteCount }
            head = end
            if head == queue.count {
                queue.removeAll(keepingCapacity: queue.capacity <= 65536)
                head = 0
            } else if head >= 65536 {
                queue.removeFirst(head)
                head = 0
            }
            return 0
        }
    }

    /// When set, messages go to this handler on the connection's I/O thread instead of the sequence.
    let handler: (@Sendable (NATSMessage) -> Void)?

    init(sid: UInt64, subject: String, queue: String?, maxPendingMessages: Int, maxPendingBytes: Int, core: ConnectionCore,
         handler: (@Sendable (NATSMessage) -> Void)? = nil) {
        self.handler = handler
        self.sid = sid
        self.subject = subject
        self.queue = queue
        self.maxPendingMessages = maxPendingMessages
        self.maxPendingBytes = maxPendingBytes
        self.core = core
        self.state = Mutex(SubscriptionState())
    }

    /// Messages delivered to this subscription but not yet consumed.
    public var pendingCount: Int { state.withLock { $0.pendingCount } }

    /// Messages dropped because the pending limits were reached.
    public var droppedCount: Int { state.withLock { $0.dropped } }

    /// Stops delivery now: sends UNSUB and ends the sequence after messages already queued.
    public func unsubscribe() {
        core.unsubscribe(self, after: nil)
    }

    /// Asks the server to unsubscribe automatically after `count` messages in total (like nats.go `AutoUnsubscribe`).
    public func unsubscribe(after count: Int) throws(NATSError) {
        guard count > 0 else {
            throw NATSError(.invalidConfiguration, "unsubscribe(after:) needs a positive count, got \(count)", subject: subject)
        }
        core.unsubscribe(self, after: count)
    }

    /// Stops receiving, waits until messages in flight have arrived, and ends the sequence once
    /// the consumer has taken every queued message.
    public func drain(timeout: Duration? = nil) async throws(NATSError) {
        try await core.drainSubscription(self, timeout: timeout ?? core.options.drainTimeout)
    }

    // MARK: Producer side (I/O thread)

    /// Enqueues messages; returns how many were dropped for the limits.
    func enqueue(_ messages: ArraySlice<NATSMessage>) -> Int {
        var dropped = 0
        let waiter: CheckedContinuation<Result<NATSMessage?, NATSError>, Never>?
        var first: NATSMessage?
        (waiter, first, dropped) = state.withLock { s -> (CheckedContinuation<Result<NATSMessage?, NATSError>, Never>?, NATSMessage?, Int) in
            if s.finished { return (nil, nil, 0) }
            var toQueue = messages[...]
            var handOff: NATSMessage?
            let w = s.waiter
            if w != nil, let head = toQueue.first {
                s.waiter = nil
                handOff = head
                toQueue = toQueue.dropFirst()
            }
            var droppedNow = 0
            // Fast path: the whole batch fits within both limits.
            if s.pendingCount + toQueue.count <= maxPendingMessages {
                var bytes = 0
                for index in toQueue.indices { bytes += toQueue[index].byteCount }
                if s.pendingBytes + bytes <= maxPendingBytes {
                    s.queue.append(contentsOf: toQueue)
                    s.pendingBytes += bytes
                    return (w, handOff, 0)
                }
            }
            for message in toQueue {
                if s.pendingCount >= maxPendingMessages || s.pendingBytes + message.byteCount > maxPendingBytes {
                    droppedNow += 1
                    continue
                }
                s.queue.append(message)
                s.pendingBytes += message.byteCount
            }
            s.dropped += droppedNow
            return (w, handOff, droppedNow)
        }
        if let waiter { waiter.resume(returning: .success(first)) }
        return dropped
    }

    /// Enqueues all of `messages`, taking over the array's storage when the queue is empty;
    /// `messages` is left empty (possibly with the queue's old storage). Returns the drop count.
    func enqueue(moving messages: inout [NATSMessage]) -> Int {
        guard !messages.isEmpty else { return 0 }
        var bytes = 0
        for index in messages.indices { bytes += messages[index].byteCount }
        let (swapped, waiter, first) = state.withLock { s -> (Bool, CheckedContinuation<Result<NATSMessage?, NATSError>, Never>?, NATSMessage?) in
            guard !s.finished, s.head == 0, s.queue.isEmpty,
                  messages.count <= maxPendingMessages, bytes <= maxPendingBytes else { return (false, nil, nil) }
            swap(&s.queue, &messages)
            s.pendingBytes = bytes
            // A waiting consumer gets the first message at once; the rest stay queued.
            guard let waiter = s.waiter else { return (true, nil, nil) }
            s.waiter = nil
            let head = s.queue[0]
            s.head = 1
            s.pendingBytes -= head.byteCount
            return (true, waiter, head)
        }
        if swapped {
            messages.removeAll(keepingCapacity: true)
            waiter?.resume(returning: .success(first))
            return 0
        }
        return enqueue(messages[...])
    }

    /// Ends the sequence after queued messages; with `error`, the consumer sees it after them.
    func finish(error: NATSError?) {
        let waiter = state.withLock { s -> CheckedContinuation<Result<NATSMessage?, NATSError>, Never>? in
            if s.finished { return nil }
            s.finished = true
            s.failure = error
            let w = s.waiter
            s.waiter = nil
            return w
        }
        if let waiter {
            if let error { waiter.resume(returning: .failure(error)) } else { waiter.resume(returning: .success(nil)) }
        }
    }

    var isFinishedAndEmpty: Bool { state.withLock { $0.finished && $0.pendingCount == 0 } }

    // MARK: Consumer side

    /// Iterates the subscription's messages.
    public struct AsyncIterator: AsyncIteratorProtocol {
        public typealias Element = NATSMessage
        public typealias Failure = NATSError
        let subscription: NATSSubscription
        var local: [NATSMessage] = []
        var index = 0

        /// Moves the next message out of the local batch, leaving an empty placeholder, so handing
        /// a message to the caller costs no reference counting.
        @inline(__always)
        private mutating func takeLocal() -> NATSMessage {
            let position = index
            index += 1
            return local.withUnsafeMutableBufferPointer { buffer in
                let slot = buffer.baseAddress! + position
                let message = slot.move()
                slot.initialize(to: NATSMessage.placeholder)
                return message
            }
        }

        /// The next message, nil when the subscription ended, or the error that ended it.
        public mutating func next() async throws(NATSError) -> NATSMessage? {
            if index < local.count {
                return takeLocal()
            }
            local.removeAll(keepingCapacity: true)
            index = 0
            let sub = subscription
            enum Step { case batch, done(NATSError?), wait }
            let step = sub.state.withLock { s -> Step in
                if s.pendingCount > 0 {
                    index = s.popBatch(into: &local, max: 1024)
                    return .batch
                }
                if s.finished {
                    let failure = s.failure
                    s.failure = nil
                    return .done(failure)
                }
                return .wait
            }
            switch step {
            case .batch:
                return takeLocal()
            case .done(let failure):
                if let failure { throw failure }
                return nil
            case .wait:
                let result = await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Result<NATSMessage?, NATSError>, Never>) in
                        let immediate = sub.state.withLock { s -> Result<NATSMessage?, NATSError>? in
                            if s.pendingCount > 0 {
                                var one: [NATSMessage] = []
                                s.popBatch(into: &one, max: 1)
                                return .success(one[0])
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
                    sub.cancelWaiter()
                }
                if Task.isCancelled { sub.unsubscribe() }
                return try result.get()
            }
        }
    }

    func cancelWaiter() {
        let waiter = state.withLock { s -> CheckedContinuation<Result<NATSMessage?, NATSError>, Never>? in
            let w = s.waiter
            s.waiter = nil
            return w
        }
        waiter?.resume(returning: .success(nil))
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(subscription: self)
    }
}
