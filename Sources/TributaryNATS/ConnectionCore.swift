#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import TributaryNATSProtocol
import TributaryTransport
import TributaryWire

/// What the connection machine resumes: the continuations (or, for publishers on plain threads,
/// semaphores) of callers waiting on it.
enum Waiter: Sendable {
    case connect(CheckedContinuation<Result<Void, NATSError>, Never>)
    case flush(CheckedContinuation<Result<Void, NATSError>, Never>)
    case request(CheckedContinuation<Result<NATSMessage, NATSError>, Never>)
    case room(CheckedContinuation<Void, Never>)
    case roomThread(DispatchSemaphore)
    case close(CheckedContinuation<Void, Never>)

    func succeed() {
        switch self {
        case .connect(let c), .flush(let c): c.resume(returning: .success(()))
        case .request(let c): c.resume(returning: .failure(NATSError(.connectionClosed, "request ended without a reply")))
        case .room(let c), .close(let c): c.resume()
        case .roomThread(let semaphore): semaphore.signal()
        }
    }

    func fail(_ error: NATSError) {
        switch self {
        case .connect(let c), .flush(let c): c.resume(returning: .failure(error))
        case .request(let c): c.resume(returning: .failure(error))
        case .room(let c), .close(let c): c.resume()
        case .roomThread(let semaphore): semaphore.signal()
        }
    }

    func respond(_ message: NATSMessage) {
        if case .request(let c) = self { c.resume(returning: .success(message)) } else { succeed() }
    }
}

typealias ConnectionMachine = NATSConnectionStateMachine<Waiter, NATSSubscription>

/// Everything one connection's lock guards: the machine, and who is writing to which stream.
struct EngineState {
    var machine: ConnectionMachine
    /// The connected stream, for publishers that write directly (nil unless the machine is connected).
    var stream: (any TransportStream)?
    /// The I/O thread knows there is output (set by whoever appended; cleared before it sleeps).
    var writerSignaled = false
    /// The I/O thread holds a chunk it has not finished writing.
    var ioChunkBusy = false
    /// A publisher is writing a chunk to the socket itself.
    var directWriteBusy = false
    /// Bytes a direct writer could not finish (socket full); the I/O thread writes them first.
    var handoff: (bytes: [UInt8], offset: Int)?
    /// When a chunk was last taken for writing (nanoseconds of the clock).
    var lastChunkNanos: UInt64 = 0
    /// A thread other than the I/O thread asked for the stream to be closed.
    var streamCloseRequested = false
    /// The machine said stop (the client is closed).
    var stopRequested = false
    /// Until when the I/O thread sleeps; a new deadline before it wakes the thread.
    var sleepingUntil: MonotonicInstant?
    /// Credentials a signing callback produced (off the I/O thread), for the I/O thread to hand
    /// to the machine, with the connection attempt they answer.
    var credentialOutcome: (attempt: UInt64, result: Result<NATSAuthenticationResponse, NATSError>)?
}

/// The connection driver: one lock around one state machine, one I/O thread, actions performed
/// after the lock is released. It decodes frames, feeds them to the machine, writes what the
/// machine hands out, and resumes the waiters the machine names.
///
/// Lock order: `state` is taken while holding nothing; a subscription's own lock is only taken
/// after `state` has been released, except by the I/O thread's parse section, which takes no
/// subscription lock either (deliveries happen after it).
final class ConnectionCore: Sendable {
    let options: NATSOptions
    let wakeup: WakeupPipe
    let clock: any MonotonicClock
    let state: Locked<EngineState>
    let eventStream: AsyncStream<NATSEvent>
    let eventContinuation: AsyncStream<NATSEvent>.Continuation
    /// Further event streams, one per `NATSClient.eventStream()` call; nil once the client ended.
    let eventObservers = Locked<(next: Int, streams: [Int: AsyncStream<NATSEvent>.Continuation])?>((0, [:]))

    /// A publish goes straight to the socket only when nothing was written for this long.
    static let directWriteIdleNanos: UInt64 = 50_000

    init(options: NATSOptions, servers: [NATSServerAddress]) throws(NATSError) {
        self.options = options
        clock = options.clock
        do {
            wakeup = try WakeupPipe()
        } catch {
            throw NATSError.from(transport: error)
        }
        var configuration = ConnectionMachine.Configuration()
        var connect = NATSConnectOptions()
        connect.name = options.name
        connect.pedantic = options.pedantic
        connect.echo = options.echo
        configuration.connect = connect
        configuration.user = options.user
        configuration.password = options.password
        configuration.token = options.token
        configuration.connectTimeout = options.connectTimeout
        configuration.tlsConfigured = options.tls != nil || options.tlsHandshakeFirst
        configuration.credentialsConfigured = options.credentials != nil
        configuration.pingInterval = options.pingInterval
        configuration.maxPingsOutstanding = options.maxPingsOutstanding
        configuration.allowReconnect = options.allowReconnect
        configuration.maxReconnectAttempts = options.maxReconnectAttempts
        configuration.reconnectTimeLimit = options.reconnectTimeLimit
        configuration.reconnectWait = options.reconnectWait
        configuration.reconnectJitter = options.reconnectJitter
        configuration.reconnectBufferSize = options.reconnectBufferSize
        configuration.lameDuckWindow = options.lameDuckWindow
        configuration.closeTimeout = options.closeTimeout
        configuration.inboxPrefix = options.inboxPrefix + "." + NUID.next()
        configuration.replyPrefix = options.inboxPrefix + "."
        configuration.randomize = !options.noRandomize
        let machine = ConnectionMachine(configuration: configuration, servers: servers, seed: UInt64.random(in: .min ... .max))
        state = Locked(EngineState(machine: machine))
        (eventStream, eventContinuation) = AsyncStream.makeStream(of: NATSEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let wake = wakeup
        clock.onAdvance { wake.wake() }
    }

    func now() -> MonotonicInstant { clock.now() }

    func emit(_ event: NATSEvent) {
        eventContinuation.yield(event)
        let observers = eventObservers.withLock { $0.map { Array($0.streams.values) } ?? [] }
        for observer in observers { observer.yield(event) }
    }

    /// A new event stream of its own, ended with the client (at once when it already ended).
    func makeEventStream(bufferingNewest limit: Int) -> AsyncStream<NATSEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: NATSEvent.self, bufferingPolicy: .bufferingNewest(limit))
        let id = eventObservers.withLock { observers -> Int? in
            guard observers != nil else { return nil }
            observers!.next += 1
            observers!.streams[observers!.next] = continuation
            return observers!.next
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.eventObservers.withLock { $0?.streams.removeValue(forKey: id) }
        }
        return stream
    }

    /// Ends every event stream (the client ended).
    func finishEvents() {
        eventContinuation.finish()
        let observers = eventObservers.withLock { observers -> [AsyncStream<NATSEvent>.Continuation] in
            defer { observers = nil }
            return observers.map { Array($0.streams.values) } ?? []
        }
        for observer in observers { observer.finish() }
    }

    // MARK: - Performing actions

    /// Performs actions computed under the lock, from any thread. Stream and connect actions
    /// belong to the I/O thread: here they only set flags and wake it.
    func perform(_ actions: [ConnectionMachine.Action]) {
        for action in actions {
            switch action {
            case .succeed(let waiter): waiter.succeed()
            case .fail(let waiter, let error): waiter.fail(error)
            case .respond(let waiter, let message): waiter.respond(message)
            case .finish(let subscription, let error): subscription.finish(error: error)
            case .emit(let event): emit(event)
            case .wakeWriter: signalWriter()
            case .closeStream:
                state.withLock { $0.streamCloseRequested = true }
                wakeup.wake()
            case .stop:
                state.withLock { $0.stopRequested = true }
                wakeup.wake()
            case .connect, .writeHandshake, .startTLS, .authenticate:
                // Only the I/O thread's own events produce these; it handles them itself.
                break
            }
        }
    }

    /// Makes sure the writer runs: writes directly on an idle connection, else wakes the I/O thread.
    func signalWriter() {
        let step = state.withLock { s in writerStep(&s) }
        perform(step)
    }

    enum WriterStep { case none, wake, direct([UInt8], any TransportStream, [Waiter]) }

    /// After bytes were appended (under the lock): nothing to do when the writer is already
    /// signalled; on an idle connection (no write for a while, nobody writing) take the chunk and
    /// let the caller write it directly, saving the hand-off to the I/O thread; else wake the
    /// I/O thread, which batches under load.
    @inline(__always)
    func writerStep(_ s: inout EngineState) -> WriterStep {
        guard !s.writerSignaled, s.machine.isConnected else { return .none }
        s.writerSignaled = true
        if let stream = s.stream, stream.allowsConcurrentWrite, !s.ioChunkBusy, !s.directWriteBusy, s.handoff == nil {
            let nowNanos = clock.now().nanoseconds
            if nowNanos &- s.lastChunkNanos > Self.directWriteIdleNanos {
                var released: [Waiter] = []
                if let chunk = s.machine.takeChunk(released: &released) {
                    s.lastChunkNanos = nowNanos
                    s.directWriteBusy = true
                    return .direct(chunk, stream, released)
                }
            }
        }
        return .wake
    }

    func perform(_ step: WriterStep) {
        switch step {
        case .none: break
        case .wake: wakeup.wake()
        case .direct(let chunk, let stream, let released):
            for waiter in released { waiter.succeed() }
            writeDirect(chunk, stream: stream)
        }
    }

    /// Writes a chunk from the publishing thread (non-blocking). Whatever does not fit is handed
    /// to the I/O thread; errors are left for the I/O thread to find (the chunk is already kept
    /// as unconfirmed, so a lost connection re-sends it).
    func writeDirect(_ chunk: [UInt8], stream: any TransportStream) {
        var offset = 0
        chunk.withUnsafeBytes { raw in
            while offset < raw.count {
                guard case .bytes(let n)? = try? stream.write(UnsafeRawBufferPointer(rebasing: raw[offset...])), n > 0 else { break }
                offset += n
            }
        }
        let wake = state.withLock { s -> Bool in
            s.directWriteBusy = false
            if offset < chunk.count {
                s.handoff = (chunk, offset)
                s.writerSignaled = true
                return true
            }
            if s.streamCloseRequested { return true }
            if !s.machine.hasPendingOutput {
                s.writerSignaled = false
                return false
            }
            s.writerSignaled = true
            return true
        }
        if wake { wakeup.wake() }
    }

    /// Wakes the I/O thread when `deadline` comes before the end of its current sleep.
    @inline(__always)
    func noteDeadline(_ deadline: MonotonicInstant, _ s: inout EngineState) -> Bool {
        guard let sleeping = s.sleepingUntil, deadline < sleeping else { return false }
        s.sleepingUntil = deadline
        return true
    }

    // MARK: - Publishing

    /// Appends a frame produced by `encode`, honouring the outbound bound. When there is no room,
    /// waits on a plain thread (up to `publishWaitTimeout`) and fails at once on a Swift
    /// concurrency thread, which must never block.
    @inline(__always)
    func appendFrame(size: Int, payloadSize: Int, subject: String, replyTo: String?,
                     _ encode: (inout [UInt8]) -> Void) throws(NATSError) {
        var deadline: MonotonicInstant?
        while try !appendFrameIfRoom(size: size, payloadSize: payloadSize, subject: subject, replyTo: replyTo, encode) {
            if withUnsafeCurrentTask(body: { $0 != nil }) {
                throw NATSError(.outboundBufferFull,
                                "outbound buffer for '\(subject)' is full (the server or network is slower than the publisher); from async code use `try await publishWaiting(...)`, which suspends until there is room, or slow down",
                                subject: subject)
            }
            let limit = try roomDeadline(&deadline, after: options.publishWaitTimeout, subject: subject)
            let semaphore = DispatchSemaphore(value: 0)
            waitForRoom(.roomThread(semaphore), frameSize: size, until: limit)
            _ = semaphore.wait(timeout: .now() + .nanoseconds(Int(clamping: limit.duration(since: now()).nanosecondsClamped)))
        }
    }

    /// What a publish under the lock came to, in one value (no tuple to build and destroy).
    enum AppendOutcome {
        case appended
        case wake
        case direct([UInt8], any TransportStream, [Waiter])
        case rejected(NATSError)
        case full
    }

    /// Appends a frame when there is room; false (nothing appended) when the buffer is full.
    /// The one lock section every publish goes through.
    @inline(__always)
    func appendFrameIfRoom(size: Int, payloadSize: Int, subject: String, replyTo: String?,
                           _ encode: (inout [UInt8]) -> Void) throws(NATSError) -> Bool {
        let outcome = state.withLock { s -> AppendOutcome in
            switch s.machine.publish(subject: subject, replyTo: replyTo, frameSize: size, payloadSize: payloadSize, encode) {
            case .appended:
                switch writerStep(&s) {
                case .none: return .appended
                case .wake: return .wake
                case .direct(let chunk, let stream, let released): return .direct(chunk, stream, released)
                }
            case .rejected(let error): return .rejected(error)
            case .full: return .full
            }
        }
        switch outcome {
        case .appended: return true
        case .wake:
            wakeup.wake()
            return true
        case .direct(let chunk, let stream, let released):
            for waiter in released { waiter.succeed() }
            writeDirect(chunk, stream: stream)
            return true
        case .rejected(let error): throw error
        case .full: return false
        }
    }

    /// The async twin of `appendFrame`: suspends (never blocks) until there is room.
    nonisolated(nonsending) func appendFrameWaiting(size: Int, payloadSize: Int, subject: String, replyTo: String?, timeout: Duration,
                                                    _ encode: (inout [UInt8]) -> Void) async throws(NATSError) {
        var deadline: MonotonicInstant?
        while try !appendFrameIfRoom(size: size, payloadSize: payloadSize, subject: subject, replyTo: replyTo, encode) {
            let limit = try roomDeadline(&deadline, after: timeout, subject: subject)
            if Task.isCancelled {
                throw NATSError(.cancelled, "publish to '\(subject)' cancelled while waiting for room in the outbound buffer", subject: subject)
            }
            await withCheckedContinuation { waitForRoom(.room($0), frameSize: size, until: limit) }
        }
    }

    /// The deadline of a wait for room, set on the first wait; throws once it has passed.
    func roomDeadline(_ deadline: inout MonotonicInstant?, after timeout: Duration, subject: String) throws(NATSError) -> MonotonicInstant {
        let current = now()
        let limit = deadline ?? current.advanced(by: timeout)
        deadline = limit
        if current >= limit { throw fullError(subject) }
        return limit
    }

    /// Registers `waiter` to be resumed when room for `frameSize` bytes may have appeared (at
    /// once when it already has, or at `limit`), and wakes the I/O thread so that it writes and
    /// sees the new deadline.
    func waitForRoom(_ waiter: Waiter, frameSize: Int, until limit: MonotonicInstant) {
        waitForRoom(waiter, until: limit) { _ in frameSize }
    }

    /// `waitForRoom` for a frame whose size the machine knows (a request's reply subject), read
    /// in the same lock section.
    func waitForRoom(_ waiter: Waiter, until limit: MonotonicInstant, frameSize: (borrowing ConnectionMachine) -> Int) {
        let actions = state.withLock { s in s.machine.waitForRoom(waiter, frameSize: frameSize(s.machine), deadline: limit) }
        perform(actions)
        wakeup.wake()
    }

    func fullError(_ subject: String) -> NATSError {
        NATSError(.outboundBufferFull,
                  "outbound buffer of \(options.reconnectBufferSize) bytes stayed full for \(options.publishWaitTimeout) while publishing to '\(subject)'; the server or network is slower than the publisher",
                  subject: subject)
    }

    // MARK: - Subscriptions

    func subscribe(subject: String, queue: String?, maxPendingMessages: Int, maxPendingBytes: Int,
                   handler: (@Sendable (NATSMessage) -> Void)? = nil,
                   deliverOnIOThread: (@Sendable (NATSMessage) -> Void)? = nil) throws(NATSError) -> NATSSubscription {
        let result = state.withLock { s -> Result<(NATSSubscription, WriterStep), NATSError> in
            let made = s.machine.subscribe(subject: subject, queue: queue) { sid in
                NATSSubscription(sid: sid, subject: subject, queue: queue, maxPendingMessages: maxPendingMessages,
                                 maxPendingBytes: maxPendingBytes, core: self, handler: handler, deliverOnIOThread: deliverOnIOThread)
            }
            return made.map { ($0, writerStep(&s)) }
        }
        let (subscription, step) = try result.get()
        perform(step)
        return subscription
    }

    func unsubscribe(_ subscription: NATSSubscription, after max: Int?) {
        let (finished, step) = state.withLock { s -> (NATSSubscription?, WriterStep) in
            let finished = s.machine.unsubscribe(sid: subscription.sid, max: max)
            return (finished, writerStep(&s))
        }
        perform(step)
        finished?.finish(error: nil)
    }

    func drainSubscription(_ subscription: NATSSubscription, timeout: Duration) async throws(NATSError) {
        let step = state.withLock { s -> WriterStep? in
            guard s.machine.stopInterest(sid: subscription.sid) else { return nil }
            return writerStep(&s)
        }
        guard let step else { return }
        perform(step)
        // Once the PONG after our UNSUB arrives, every message the server sent for this sid has arrived.
        var failure: NATSError?
        do { try await flush(timeout: timeout) } catch { failure = error }
        _ = state.withLock { s in s.machine.removeSubscription(sid: subscription.sid) }
        subscription.finish(error: failure)
        if let failure { throw failure }
        if await !subscription.waitUntilConsumed(timeout: timeout) {
            throw NATSError(.timeout, "drain of '\(subscription.subject)' timed out after \(timeout) with \(subscription.pendingCount) messages still queued; consume faster or raise drainTimeout",
                            subject: subscription.subject)
        }
    }

    // MARK: - Flush and requests

    nonisolated(nonsending) func flush(timeout: Duration) async throws(NATSError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, NATSError>, Never>) in
            // The wake-up makes the I/O thread write the PING and see the flush's deadline.
            let actions = state.withLock { s in s.machine.flush(waiter: .flush(continuation), timeout: timeout, now: clock.now()) }
            perform(actions)
            wakeup.wake()
        }
        try result.get()
    }

    nonisolated(nonsending) func request(subject: String, headerBlock: [UInt8]?, payload: [UInt8], timeout: Duration) async throws(NATSError) -> NATSMessage {
        var deadline: MonotonicInstant?
        while true {
            enum Outcome { case sent(WriterStep, Bool), failed(NATSError), full }
            var full = false
            let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<NATSMessage, NATSError>, Never>) in
                let outcome = state.withLock { s -> Outcome in
                    let current = clock.now()
                    let verdict = payload.withUnsafeBytes { raw in
                        s.machine.request(subject: subject, headerBlock: headerBlock, payload: raw, waiter: .request(continuation),
                                          timeout: timeout, now: current)
                    }
                    switch verdict {
                    case .appended: return .sent(writerStep(&s), noteDeadline(current.advanced(by: timeout), &s))
                    case .rejected(let error): return .failed(error)
                    case .full: return .full
                    }
                }
                switch outcome {
                case .sent(let step, let wake):
                    perform(step)
                    if wake { wakeup.wake() }
                case .failed(let error):
                    continuation.resume(returning: .failure(error))
                case .full:
                    full = true
                    continuation.resume(returning: .failure(fullError(subject)))
                }
            }
            guard full else { return try result.get() }
            let limit = try roomDeadline(&deadline, after: min(timeout, options.publishWaitTimeout), subject: subject)
            await withCheckedContinuation { continuation in
                waitForRoom(.room(continuation), until: limit) { machine in
                    machine.requestFrameSize(subject: subject, headerBytes: headerBlock?.count ?? 0, payloadBytes: payload.count)
                }
            }
        }
    }

    // MARK: - Close and drain

    func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let actions = state.withLock { s in s.machine.close(waiter: .close(continuation), now: clock.now()) }
            perform(actions)
        }
    }

    func drain(timeout: Duration) async throws(NATSError) {
        let (drained, step) = state.withLock { s -> ([(sid: UInt64, subscriber: NATSSubscription)], WriterStep) in
            let drained = s.machine.drainStarted()
            return (drained, writerStep(&s))
        }
        perform(step)
        var firstError: NATSError?
        // UNSUB everything, then one round trip: after its PONG no more messages are in flight.
        do { try await flush(timeout: timeout) } catch { firstError = error }
        state.withLock { s in for entry in drained { _ = s.machine.removeSubscription(sid: entry.sid) } }
        for entry in drained { entry.subscriber.finish(error: nil) }
        for entry in drained where firstError == nil {
            if await !entry.subscriber.waitUntilConsumed(timeout: timeout) {
                let left = drained.reduce(0) { $0 + $1.subscriber.pendingCount }
                firstError = NATSError(.timeout, "drain timed out after \(timeout) with \(left) messages not consumed; consume faster or raise drainTimeout")
            }
        }
        // Publishes made before drain: confirm them with a final round trip.
        if firstError == nil {
            do { try await flush(timeout: timeout) } catch { firstError = error }
        }
        await close()
        if let firstError { throw firstError }
    }
}

/// Unique tokens made as NATS clients make them (nuid): 12 random base-62 characters, then a
/// 10-character base-62 sequence that starts at a random value and grows by a random step of
/// 33–332, with a fresh random prefix when the sequence runs out. One draw from the system's
/// random source per prefix, instead of one per character, and one lock per token.
@_spi(TributaryInternal)
public struct NUID: Sendable {
    static let digits: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    /// 62^10: the sequence's range.
    static let sequenceLimit: Int64 = 839_299_365_868_340_224
    static let shared = Locked(NUID())

    private var prefix: [UInt8] = []
    private var sequence: Int64 = 0
    private var step: Int64 = 0

    /// A generator with a random prefix, start and step.
    public init() {
        var random = SystemRandomNumberGenerator()
        self.init(using: &random)
    }

    /// A generator drawing its prefixes, starts and steps from `random` (tests pass a seeded one).
    public init(using random: inout some RandomNumberGenerator) {
        renew(using: &random)
    }

    private mutating func renew(using random: inout some RandomNumberGenerator) {
        prefix = (0..<12).map { _ in Self.digits[Int(random.next(upperBound: UInt64(62)))] }
        sequence = Int64(random.next(upperBound: UInt64(Self.sequenceLimit)))
        step = 33 + Int64(random.next(upperBound: UInt64(300)))
    }

    /// The next token: 22 base-62 characters, never the same twice from one generator.
    public mutating func next() -> String {
        var random = SystemRandomNumberGenerator()
        return next(using: &random)
    }

    /// The next token; `random` is drawn from only when the sequence runs out.
    public mutating func next(using random: inout some RandomNumberGenerator) -> String {
        sequence += step
        if sequence >= Self.sequenceLimit { renew(using: &random) }
        var value = sequence
        return String(unsafeUninitializedCapacity: 22) { buffer in
            for index in 0..<12 { buffer[index] = prefix[index] }
            for index in stride(from: 21, through: 12, by: -1) {
                buffer[index] = Self.digits[Int(value % 62)]
                value /= 62
            }
            return 22
        }
    }

    /// A token from the process-wide generator.
    public static func next() -> String {
        shared.withLock { $0.next() }
    }
}
