import Dispatch
import TributaryNATSProtocol
import TributaryWire

/// A subscription: an `AsyncSequence` of messages with a bounded pending queue.
///
/// Messages beyond `maxPendingMessages` or `maxPendingBytes` (payload, subject and header bytes)
/// are dropped, counted in `droppedCount` and reported as a `.slowConsumer` error event, at most
/// once a second per subscription with a running count. Cancelling the consuming task
/// unsubscribes. Iterate from one task at a time. A handler subscription runs its handler on a
/// serial queue of its own, fed from the same bounded queue.
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
    let state: Locked<SubscriptionState>

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
        /// Drops not yet reported, and when the last report went out.
        var unreportedDrops = 0
        var lastDropReport: MonotonicInstant?
        /// Callers of `waitUntilConsumed`, resumed once finished and empty.
        var consumedWaiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]
        var nextConsumedWaiter: UInt64 = 0
        /// The handler queue has a run scheduled.
        var handlerScheduled = false

        /// Takes the consumed-waiters when the subscription is finished and empty.
        mutating func takeConsumedWaiters() -> [CheckedContinuation<Bool, Never>] {
            guard finished, pendingCount == 0, !consumedWaiters.isEmpty else { return [] }
            defer { consumedWaiters = [:] }
            return Array(consumedWaiters.values)
        }

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

    /// When set, messages go to this handler on `handlerQueue` instead of the sequence.
    let handler: (@Sendable (NATSMessage) -> Void)?
    /// When set, messages go to this handler on the I/O thread itself, as they are routed: only
    /// for the client modules' own short, non-blocking handlers (JetStream acknowledgements),
    /// never for user code.
    let deliverOnIOThread: (@Sendable (NATSMessage) -> Void)?
    /// The serial queue a handler runs on: never the I/O thread, so a slow handler delays only
    /// its own subscription.
    let handlerQueue: DispatchQueue?

    init(sid: UInt64, subject: String, queue: String?, maxPendingMessages: Int, maxPendingBytes: Int, core: ConnectionCore,
         handler: (@Sendable (NATSMessage) -> Void)? = nil, deliverOnIOThread: (@Sendable (NATSMessage) -> Void)? = nil) {
        self.handler = handler
        self.deliverOnIOThread = deliverOnIOThread
        handlerQueue = handler == nil ? nil : DispatchQueue(label: "tributary-nats-handler.\(sid)")
        self.sid = sid
        self.subject = subject
        self.queue = queue
        self.maxPendingMessages = maxPendingMessages
        self.maxPendingBytes = maxPendingBytes
        self.core = core
        self.state = Locked(SubscriptionState())
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
        scheduleHandler()
        return dropped
    }

    /// Counts drops and says when to report them: the first time, then at most once a second.
    /// Returns the drops since the last report and the running total.
    func dropReport(_ dropped: Int, now: MonotonicInstant) -> (recent: Int, all: Int)? {
        state.withLock { s -> (recent: Int, all: Int)? in
            s.unreportedDrops += dropped
            if let last = s.lastDropReport, now.duration(since: last) < .seconds(1) { return nil }
            s.lastDropReport = now
            defer { s.unreportedDrops = 0 }
            return (s.unreportedDrops, s.dropped)
        }
    }

    /// Runs the handler over queued messages on the subscription's own queue.
    func scheduleHandler() {
        guard let handler, let handlerQueue else { return }
        let start = state.withLock { s -> Bool in
            if s.handlerScheduled || s.pendingCount == 0 { return false }
            s.handlerScheduled = true
            return true
        }
        guard start else { return }
        handlerQueue.async { [self] in
            var batch: [NATSMessage] = []
            while true {
                let (index, waiters) = state.withLock { s -> (Int?, [CheckedContinuation<Bool, Never>]) in
                    if s.pendingCount == 0 {
                        s.handlerScheduled = false
                        return (nil, s.takeConsumedWaiters())
                    }
                    return (s.popBatch(into: &batch, max: 256), [])
                }
                guard let index else {
                    for waiter in waiters { waiter.resume(returning: true) }
                    return
                }
                for position in index..<batch.count { handler(batch[position]) }
                batch.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Waits until the subscription has ended and every queued message was taken; false on timeout.
    func waitUntilConsumed(timeout: Duration) async -> Bool {
        let id = state.withLock { s -> UInt64? in
            if s.finished && s.pendingCount == 0 && !s.handlerScheduled { return nil }
            s.nextConsumedWaiter += 1
            return s.nextConsumedWaiter
        }
        guard let id else { return true }
        let timer = Task { [self] in
            try? await Task.sleep(for: timeout)
            let waiter = state.withLock { s in s.consumedWaiters.removeValue(forKey: id) }
            waiter?.resume(returning: false)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let done = state.withLock { s -> Bool in
                if s.finished && s.pendingCount == 0 && !s.handlerScheduled { return true }
                s.consumedWaiters[id] = continuation
                return false
            }
            if done { continuation.resume(returning: true) }
        }
    }

    /// Enqueues all of `messages`, taking over the array's storage when the queue is empty;
    /// `messages` is left empty (possibly with the queue's old storage). Returns the drop count.
    func enqueue(moving messages: inout [NATSMessage]) -> Int {
        guard !messages.isEmpty else { return 0 }
        var bytes = 0
        for index in messages.indices { bytes += messages[index].byteCount }
        let (swapped, waiter, first) = state.withLock { s -> (Bool, CheckedContinuation<Result<NATSMessage?, NATSError>, Never>?, NATSMessage?) in
            guard !s.finished else { return (false, nil, nil) }
            if s.waiter == nil, s.pendingCount + messages.count <= maxPendingMessages, s.pendingBytes + bytes <= maxPendingBytes,
               !(s.head == 0 && s.queue.isEmpty) {
                // The consumer has not taken the last batch yet: move the messages behind it
                // (no reference counting per message, unlike copying them and dropping the originals).
                let needed = s.queue.count + messages.count
                // Geometric growth: `reserveCapacity` alone allocates exactly, which would copy
                // the whole queue on every batch while the consumer lags.
                if s.queue.capacity < needed { s.queue.reserveCapacity(Swift.max(needed, s.queue.capacity * 2)) }
                messages.withUnsafeMutableBufferPointer { buffer in
                    for index in buffer.indices {
                        let slot = buffer.baseAddress! + index
                        s.queue.append(slot.move())
                        slot.initialize(to: NATSMessage.placeholder)
                    }
                }
                s.pendingBytes += bytes
                return (true, nil, nil)
            }
            guard s.head == 0, s.queue.isEmpty,
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
            scheduleHandler()
            return 0
        }
        return enqueue(messages[...])
    }

    /// Ends the sequence after queued messages; with `error`, the consumer sees it after them.
    func finish(error: NATSError?) {
        let (waiter, consumed) = state.withLock { s -> (CheckedContinuation<Result<NATSMessage?, NATSError>, Never>?, [CheckedContinuation<Bool, Never>]) in
            if s.finished { return (nil, []) }
            s.finished = true
            s.failure = error
            let w = s.waiter
            s.waiter = nil
            return (w, s.handlerScheduled ? [] : s.takeConsumedWaiters())
        }
        for continuation in consumed { continuation.resume(returning: true) }
        if let waiter {
            if let error { waiter.resume(returning: .failure(error)) } else { waiter.resume(returning: .success(nil)) }
        }
    }


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
            if index < local.count { return takeLocal() }
            return try await nextBatch()
        }

        /// The next message, on the caller's actor (no executor hop per message when a loop runs
        /// on an actor).
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(NATSError) -> NATSMessage? {
            // Most calls take a message of the local batch, with no further async call.
            if index < local.count { return takeLocal() }
            return try await nextBatch()
        }

        /// Takes the next batch from the subscription, waiting for one when none is queued.
        nonisolated(nonsending) mutating func nextBatch() async throws(NATSError) -> NATSMessage? {
            local.removeAll(keepingCapacity: true)
            index = 0
            let sub = subscription
            enum Step { case batch, done(NATSError?), wait }
            var consumed: [CheckedContinuation<Bool, Never>] = []
            let step = sub.state.withLock { s -> Step in
                if s.pendingCount > 0 {
                    index = s.popBatch(into: &local, max: 1024)
                    consumed = s.takeConsumedWaiters()
                    return .batch
                }
                if s.finished {
                    let failure = s.failure
                    s.failure = nil
                    consumed = s.takeConsumedWaiters()
                    return .done(failure)
                }
                return .wait
            }
            for continuation in consumed { continuation.resume(returning: true) }
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
