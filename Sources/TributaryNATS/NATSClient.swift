import TributaryNATSProtocol
import TributaryWire

/// A NATS connection: publish, subscribe, request/reply, flush, drain — with reconnect.
///
/// `publish` does not suspend: it appends the frame to a bounded outbound buffer that one I/O
/// thread writes in large batches. Bytes are kept until the server confirms them (a PONG after
/// them), so a publish accepted before a connection loss is re-sent after reconnect; anything
/// given up is reported (the next `flush()` throws and an `.error(.messagesLost)` event carries
/// the count). All methods are safe to call from any task or thread.
public final class NATSClient: Sendable {
    let core: ConnectionCore

    private init(core: ConnectionCore) {
        self.core = core
    }

    /// Connects to the first reachable server of `options.servers` and completes the handshake.
    ///
    /// - Throws: `.invalidConfiguration` naming the bad field, `.connectionFailed`,
    ///   `.authorizationViolation`, `.tlsRequired` or `.protocolError`.
    public static func connect(_ options: NATSOptions = NATSOptions()) async throws(NATSError) -> NATSClient {
        let servers = try options.validatedServers()
        let core = try ConnectionCore(options: options, servers: servers)
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, NATSError>, Never>) in
            core.start(initial: continuation)
        }
        try result.get()
        return NATSClient(core: core)
    }

    /// Connects to `url` (`nats://[user:pass@|token@]host[:port]`, comma-separated lists allowed).
    public static func connect(url: String) async throws(NATSError) -> NATSClient {
        try await connect(NATSOptions(url: url))
    }

    /// Runs `body` with a connected client and closes it afterwards, whatever happens.
    public static func withConnection<T: Sendable>(_ options: NATSOptions = NATSOptions(),
                                                   _ body: (NATSClient) async throws -> T) async throws -> T {
        let client = try await connect(options)
        do {
            let value = try await body(client)
            await client.close()
            return value
        } catch {
            await client.close()
            throw error
        }
    }

    /// Connection lifecycle and asynchronous errors (bounded: the newest 1024 are kept if nobody reads).
    public var events: AsyncStream<NATSEvent> { core.eventStream }

    /// A stream of the connection's events of its own: each call gets every event from the call
    /// on, so several parts of a program (a pull consumer re-pulling after `.reconnected`, a
    /// health check) can each watch them, unlike `events`, which has one reader. The newest
    /// `bufferingNewest` events are kept while nobody reads. The stream ends when the client
    /// closes; stop iterating (or cancel the task) to stop watching.
    public func eventStream(bufferingNewest: Int = 64) -> AsyncStream<NATSEvent> {
        core.makeEventStream(bufferingNewest: Swift.max(1, bufferingNewest))
    }

    /// The INFO of the server currently (or last) connected.
    public var serverInfo: NATSServerInfo? { core.state.withLock { $0.machine.serverInfo } }

    /// `host:port` of the server currently (or last) connected.
    public var connectedServer: String { core.state.withLock { $0.machine.currentEndpoint } }

    /// Servers known to the client: configured ones and those learned from the cluster.
    public var knownServers: [String] { core.state.withLock { $0.machine.knownServers.map(\.description) } }

    /// True while connected (not reconnecting, not closed).
    public var isConnected: Bool { core.state.withLock { $0.machine.status == .connected } }

    /// True once the client is closed for good.
    public var isClosed: Bool { core.state.withLock { $0.machine.isClosed } }

    /// Published messages that were accepted but given up unconfirmed when the client closed.
    public var lostMessageCount: Int { core.state.withLock { $0.machine.lostMessages } }

    /// The largest payload (headers included) the server accepts.
    public var maxPayload: Int { core.state.withLock { $0.machine.maxPayload } }

    // MARK: Publish

    /// Publishes `payload` to `subject`.
    ///
    /// Returns once the frame is in the outbound buffer. Validates the subject, reply subject and
    /// headers, and checks the size against the server's max_payload, before anything is buffered.
    /// Never blocks a Swift concurrency thread: when the buffer is full (the server or network is
    /// slower than the publisher), a call from a task throws `.outboundBufferFull` at once; use
    /// `publishWaiting` there, which suspends until there is room. A call from a plain thread
    /// (a handler's queue, a command-line loop) waits up to `publishWaitTimeout`.
    /// - Throws: `.invalidSubject`, `.invalidHeaders`, `.maxPayloadExceeded`, `.connectionClosed`,
    ///   `.reconnectBufferExceeded` (disconnected and the buffer is full) or `.outboundBufferFull`.
    public func publish(_ payload: UnsafeRawBufferPointer, to subject: String, replyTo: String? = nil,
                        headers: NATSHeaders? = nil) throws(NATSError) {
        // The subject is validated under the client lock, where the last valid subject is cached.
        if let replyTo, let problem = NATSValidation.subjectProblem(replyTo) { throw .invalidName("reply subject", replyTo, problem) }
        if let headers, !headers.isEmpty {
            if let problem = headers.problem() {
                throw NATSError(.invalidHeaders, "invalid headers for '\(subject)': \(problem)", subject: subject)
            }
            let headerBytes = headers.wireSize
            let size = NATSEncoder.publishFrameSize(subject: subject, replyTo: replyTo, headerBytes: headerBytes, payloadBytes: payload.count)
            try core.appendFrame(size: size, payloadSize: payload.count + headerBytes, subject: subject, replyTo: replyTo) { buffer in
                NATSEncoder.appendHeaderPublish(subject: subject, replyTo: replyTo, headers: headers, payload: payload, into: &buffer)
            }
        } else {
            let size = NATSEncoder.publishFrameSize(subject: subject, replyTo: replyTo, headerBytes: 0, payloadBytes: payload.count)
            try core.appendFrame(size: size, payloadSize: payload.count, subject: subject, replyTo: replyTo) { buffer in
                NATSEncoder.appendPublish(subject: subject, replyTo: replyTo, payload: payload, into: &buffer)
            }
        }
    }

    /// Publishes `payload` to `subject`, suspending while the outbound buffer is full.
    ///
    /// Use it from async code that publishes faster than the network may take: it returns as soon
    /// as the frame is buffered (no suspension when there is room) and waits, without blocking a
    /// thread, up to `timeout` (default `publishWaitTimeout`) when there is not.
    /// - Throws: what `publish` throws; `.outboundBufferFull` after `timeout`, `.cancelled` when
    ///   the task is cancelled while waiting.
    @inlinable
    nonisolated(nonsending) public func publishWaiting(_ payload: [UInt8], to subject: String, replyTo: String? = nil,
                                                       headers: NATSHeaders? = nil, timeout: Duration? = nil) async throws(NATSError) {
        // The common case, room in the buffer, costs no suspension and no async frame.
        if try publishIfRoom(payload, to: subject, replyTo: replyTo, headers: headers) { return }
        try await publishWaitingSlow(payload, to: subject, replyTo: replyTo, headers: headers, timeout: timeout)
    }

    /// Publishes when the outbound buffer has room; false (nothing buffered) when it is full.
    @usableFromInline
    func publishIfRoom(_ payload: [UInt8], to subject: String, replyTo: String?, headers: NATSHeaders?) throws(NATSError) -> Bool {
        if let replyTo, let problem = NATSValidation.subjectProblem(replyTo) { throw .invalidName("reply subject", replyTo, problem) }
        return try payload.withBytes { (raw) throws(NATSError) -> Bool in
            if let headers, !headers.isEmpty {
                if let problem = headers.problem() {
                    throw NATSError(.invalidHeaders, "invalid headers for '\(subject)': \(problem)", subject: subject)
                }
                let headerBytes = headers.wireSize
                let size = NATSEncoder.publishFrameSize(subject: subject, replyTo: replyTo, headerBytes: headerBytes, payloadBytes: raw.count)
                return try core.appendFrameIfRoom(size: size, payloadSize: raw.count + headerBytes, subject: subject, replyTo: replyTo) { buffer in
                    NATSEncoder.appendHeaderPublish(subject: subject, replyTo: replyTo, headers: headers, payload: raw, into: &buffer)
                }
            }
            let size = NATSEncoder.publishFrameSize(subject: subject, replyTo: replyTo, headerBytes: 0, payloadBytes: raw.count)
            return try core.appendFrameIfRoom(size: size, payloadSize: raw.count, subject: subject, replyTo: replyTo) { buffer in
                NATSEncoder.appendPublish(subject: subject, replyTo: replyTo, payload: raw, into: &buffer)
            }
        }
    }

    @usableFromInline
    nonisolated(nonsending) func publishWaitingSlow(_ payload: [UInt8], to subject: String, replyTo: String?, headers: NATSHeaders?,
                                                    timeout: Duration?) async throws(NATSError) {
        let limit = timeout ?? core.options.publishWaitTimeout
        if let headers, !headers.isEmpty {
            let block = headers.encoded
            let size = NATSEncoder.publishFrameSize(subject: subject, replyTo: replyTo, headerBytes: block.count, payloadBytes: payload.count)
            try await core.appendFrameWaiting(size: size, payloadSize: payload.count + block.count, subject: subject, replyTo: replyTo, timeout: limit) { buffer in
                payload.withUnsafeBytes { raw in
                    NATSEncoder.appendHeaderPublish(subject: subject, replyTo: replyTo, headerBlock: block, payload: raw, into: &buffer)
                }
            }
        } else {
            let size = NATSEncoder.publishFrameSize(subject: subject, replyTo: replyTo, headerBytes: 0, payloadBytes: payload.count)
            try await core.appendFrameWaiting(size: size, payloadSize: payload.count, subject: subject, replyTo: replyTo, timeout: limit) { buffer in
                payload.withUnsafeBytes { raw in
                    NATSEncoder.appendPublish(subject: subject, replyTo: replyTo, payload: raw, into: &buffer)
                }
            }
        }
    }

    /// Publishes a UTF-8 string, suspending while the outbound buffer is full. See `publishWaiting(_:to:replyTo:headers:timeout:)`.
    public func publishWaiting(_ payload: String, to subject: String, replyTo: String? = nil, headers: NATSHeaders? = nil,
                               timeout: Duration? = nil) async throws(NATSError) {
        try await publishWaiting(Array(payload.utf8), to: subject, replyTo: replyTo, headers: headers, timeout: timeout)
    }

    /// Publishes bytes to `subject`. See `publish(_:to:replyTo:headers:)`.
    public func publish(_ payload: [UInt8], to subject: String, replyTo: String? = nil, headers: NATSHeaders? = nil) throws(NATSError) {
        try payload.withBytes { (raw) throws(NATSError) in
            try publish(raw, to: subject, replyTo: replyTo, headers: headers)
        }
    }

    /// Publishes any collection of bytes (`Data`, a slice, …) to `subject`.
    public func publish<Bytes: Collection>(_ payload: Bytes, to subject: String, replyTo: String? = nil,
                                           headers: NATSHeaders? = nil) throws(NATSError) where Bytes.Element == UInt8 {
        var failure: NATSError?
        let contiguous: Bool? = payload.withContiguousStorageIfAvailable { buffer in
            do throws(NATSError) {
                try publish(UnsafeRawBufferPointer(buffer), to: subject, replyTo: replyTo, headers: headers)
            } catch {
                failure = error
            }
            return true
        }
        if let failure { throw failure }
        if contiguous == nil { try publish(Array(payload), to: subject, replyTo: replyTo, headers: headers) }
    }

    /// Publishes a UTF-8 string to `subject`.
    public func publish(_ payload: String, to subject: String, replyTo: String? = nil, headers: NATSHeaders? = nil) throws(NATSError) {
        var text = payload
        try text.withUTF8Bytes { (raw) throws(NATSError) in
            try publish(raw, to: subject, replyTo: replyTo, headers: headers)
        }
    }

    /// Answers a received request: publishes to its reply subject.
    ///
    /// - Throws: `.invalidSubject` when the message has no reply subject, and any `publish` error.
    public func respond(to message: NATSMessage, with payload: [UInt8], headers: NATSHeaders? = nil) throws(NATSError) {
        guard let reply = message.replyTo else {
            throw NATSError(.invalidSubject, "message on '\(message.subject)' has no reply subject; only requests can be answered", subject: message.subject)
        }
        try publish(payload, to: reply, headers: headers)
    }

    /// Answers a received request with a UTF-8 string.
    public func respond(to message: NATSMessage, with payload: String, headers: NATSHeaders? = nil) throws(NATSError) {
        try respond(to: message, with: Array(payload.utf8), headers: headers)
    }

    // MARK: Subscribe

    /// Subscribes to `subject` (wildcards `*` and `>` allowed), optionally in a queue group.
    ///
    /// - Parameters:
    ///   - maxPendingMessages: pending limit (default `options.maxPendingMessages`).
    ///   - maxPendingBytes: pending byte limit (default `options.maxPendingBytes`).
    /// - Throws: `.invalidSubject`, `.invalidQueue`, `.connectionClosed`.
    public func subscribe(to subject: String, queue: String? = nil, maxPendingMessages: Int? = nil,
                          maxPendingBytes: Int? = nil) throws(NATSError) -> NATSSubscription {
        if let problem = NATSValidation.subjectProblem(subject, forSubscription: true) { throw .invalidName("subject", subject, problem) }
        if let queue, let problem = NATSValidation.queueProblem(queue) { throw .invalidName("queue group", queue, problem, code: .invalidQueue) }
        let messages = maxPendingMessages ?? core.options.maxPendingMessages
        let bytes = maxPendingBytes ?? core.options.maxPendingBytes
        guard messages > 0, bytes > 0 else {
            throw NATSError(.invalidConfiguration, "maxPendingMessages and maxPendingBytes must be positive", subject: subject)
        }
        return try core.subscribe(subject: subject, queue: queue, maxPendingMessages: messages, maxPendingBytes: bytes)
    }

    /// Subscribes with a handler called for each message, in order, like nats.go's
    /// `Subscribe(subject, handler)`.
    ///
    /// The handler runs on a serial queue of this subscription's own, never on the connection's
    /// I/O thread: a slow handler delays only its own subscription, and messages it cannot keep
    /// up with are held in the subscription's bounded pending queue (`maxPendingMessages`,
    /// `maxPendingBytes`), beyond which they are dropped and reported as a slow consumer. The
    /// handler may publish or respond; a synchronous `publish` from it waits for room (up to
    /// `publishWaitTimeout`) instead of failing, since it does not run on the Swift concurrency pool.
    /// - Throws: `.invalidSubject`, `.invalidQueue`, `.connectionClosed`.
    public func subscribe(to subject: String, queue: String? = nil, maxPendingMessages: Int? = nil, maxPendingBytes: Int? = nil,
                          handler: @escaping @Sendable (NATSMessage) -> Void) throws(NATSError) -> NATSSubscription {
        if let problem = NATSValidation.subjectProblem(subject, forSubscription: true) { throw .invalidName("subject", subject, problem) }
        if let queue, let problem = NATSValidation.queueProblem(queue) { throw .invalidName("queue group", queue, problem, code: .invalidQueue) }
        let messages = maxPendingMessages ?? core.options.maxPendingMessages
        let bytes = maxPendingBytes ?? core.options.maxPendingBytes
        guard messages > 0, bytes > 0 else {
            throw NATSError(.invalidConfiguration, "maxPendingMessages and maxPendingBytes must be positive", subject: subject)
        }
        return try core.subscribe(subject: subject, queue: queue, maxPendingMessages: messages, maxPendingBytes: bytes, handler: handler)
    }

    /// Subscribes with a handler that runs on the connection's I/O thread as each message is
    /// routed, with no queue in between. For Tributary's own modules only (JetStream's
    /// acknowledgement matching): the handler must be short and never block, since the whole
    /// connection waits for it. User code belongs in the handler form above. (A name of its own,
    /// not a `subscribe` overload: with the SPI imported, `subscribe(to:) { ... }` must still
    /// mean the queued handler form.)
    @_spi(TributaryInternal)
    public func subscribeOnIOThread(to subject: String, handler: @escaping @Sendable (NATSMessage) -> Void) throws(NATSError) -> NATSSubscription {
        if let problem = NATSValidation.subjectProblem(subject, forSubscription: true) { throw .invalidName("subject", subject, problem) }
        return try core.subscribe(subject: subject, queue: nil, maxPendingMessages: core.options.maxPendingMessages,
                                  maxPendingBytes: core.options.maxPendingBytes, deliverOnIOThread: handler)
    }

    // MARK: Request/reply

    /// Sends a request and waits for the first reply, over one shared inbox subscription.
    ///
    /// - Throws: `.noResponders` (status 503: nothing subscribes), `.timeout`, `.permissionViolation`
    ///   (the server refused the publish or the inbox subscription), and any `publish` error.
    nonisolated(nonsending) public func request(_ payload: [UInt8], to subject: String, headers: NATSHeaders? = nil,
                                                timeout: Duration? = nil) async throws(NATSError) -> NATSMessage {
        if let problem = NATSValidation.subjectProblem(subject) { throw .invalidName("subject", subject, problem) }
        var block: [UInt8]?
        if let headers, !headers.isEmpty {
            if let problem = headers.problem() {
                throw NATSError(.invalidHeaders, "invalid headers for '\(subject)': \(problem)", subject: subject)
            }
            block = headers.encoded
        }
        let limit = timeout ?? core.options.requestTimeout
        return try await core.request(subject: subject, headerBlock: block, payload: payload, timeout: limit)
    }

    /// Sends a UTF-8 string request.
    nonisolated(nonsending) public func request(_ payload: String, to subject: String, headers: NATSHeaders? = nil,
                                                timeout: Duration? = nil) async throws(NATSError) -> NATSMessage {
        try await request(Array(payload.utf8), to: subject, headers: headers, timeout: timeout)
    }

    // MARK: Flush, drain, close

    /// Waits until the server has processed everything sent so far (a PING/PONG round trip).
    ///
    /// - Throws: `.timeout`, `.connectionClosed`, or `.messagesLost` when buffered publishes were given up.
    nonisolated(nonsending) public func flush(timeout: Duration? = nil) async throws(NATSError) {
        try await core.flush(timeout: timeout ?? core.options.flushTimeout)
    }

    /// Drains the connection: unsubscribes everything, delivers what is queued, confirms
    /// outstanding publishes, then closes.
    public func drain(timeout: Duration? = nil) async throws(NATSError) {
        try await core.drain(timeout: timeout ?? core.options.drainTimeout)
    }

    /// Closes the connection after writing what is buffered (bounded wait). Idempotent.
    ///
    /// Publishes the server never confirmed are counted in `lostMessageCount` and reported as an
    /// `.error(.messagesLost)` event.
    public func close() async {
        await core.close()
    }
}

