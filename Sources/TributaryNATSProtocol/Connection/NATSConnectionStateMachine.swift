import TributaryWire

/// The NATS connection as a pure state machine: handshake, steady state, reconnect, lame duck,
/// drain and close, with every policy of the client and none of its I/O.
///
/// The driver feeds it what happened (`streamOpened`, `received(_:now:)`, `messageReceived`,
/// `connectionLost`, `timerFired(now:)`, and the user's `publish`, `subscribe`, `request`,
/// `flush`, `close`) and performs the actions it returns. Time enters as a value. `Waiter` is
/// whatever the driver resumes (continuations in the client, plain values in tests);
/// `Subscriber` is what messages are delivered to.
///
/// What it owns: the server pool with learned URLs, reconnect backoff and jitter, the attempt
/// and time limits, keep-alive and stale detection, the confirming PINGs that let the outbound
/// stream be re-sent after a loss, one bound for publishes and requests, auto-unsubscribe counts
/// across reconnects, request, flush and publish-wait deadlines, lame duck, drain and close.
public struct NATSConnectionStateMachine<Waiter, Subscriber> {
    /// Policy settings; the client fills them from `NATSOptions`.
    public struct Configuration: Sendable {
        /// CONNECT fields other than credentials (name, echo, pedantic, …).
        public var connect = NATSConnectOptions()
        /// Credentials used when a server URL carries none.
        public var user: String?
        /// Password for `user`.
        public var password: String?
        /// Token used when a server URL carries none.
        public var token: String?
        /// Whether TLS options were given: every server must then speak TLS.
        public var tlsConfigured = false
        /// Whether NKEY or JWT credentials are configured: each handshake asks the driver for
        /// them (`.authenticate`) before CONNECT.
        public var credentialsConfigured = false
        /// Handshake (and TCP connect) time limit.
        public var connectTimeout: Duration = .seconds(2)
        /// Keep-alive PING interval.
        public var pingInterval: Duration = .seconds(120)
        /// Unanswered keep-alive PINGs after which the connection is stale.
        public var maxPingsOutstanding = 2
        /// Whether a lost connection is re-established.
        public var allowReconnect = true
        /// Failed attempts per server before it leaves the pool; -1 retries forever.
        public var maxReconnectAttempts = 60
        /// Give up when disconnected for this long, whatever the attempt counts; nil: no limit.
        public var reconnectTimeLimit: Duration?
        /// Minimum time between two attempts on the same server.
        public var reconnectWait: Duration = .seconds(2)
        /// Up to this much is added to a reconnect wait at random.
        public var reconnectJitter: Duration = .milliseconds(100)
        /// Bound on pending plus unconfirmed outbound bytes.
        public var reconnectBufferSize = 8 * 1024 * 1024
        /// While connected, publishers wait when this many bytes are not yet taken by the writer.
        public var writeAhead = 256 * 1024
        /// While connected, publishers wait when this many written bytes await the server's
        /// confirmation (the reconnect buffer bounds them too): keeps memory small in a flood.
        public var maxUnconfirmed = 2 * 1024 * 1024
        /// A confirming PING goes out after this many unconfirmed bytes.
        public var confirmInterval = 64 * 1024
        /// Smaller unconfirmed tails are confirmed once they have waited this long.
        public var confirmDelay: Duration = .milliseconds(200)
        /// How long `close` waits for the server to confirm what was written.
        public var closeTimeout: Duration = .seconds(2)
        /// On a lame-duck INFO, the client moves at a random moment within this window.
        public var lameDuckWindow: Duration = .seconds(30)
        /// Bound on PONG replies waiting to be written; a server that exceeds it (it sends PINGs
        /// but does not read our answers) is cut off. The driver reads at most 1 MiB between
        /// two writes, so a server that reads never comes near it.
        public var maxControlBytes = 4 * 1024 * 1024
        /// The request inbox prefix, unique per client (`_INBOX.<nuid>`).
        public var inboxPrefix = "_INBOX.client"
        /// Publishes whose reply subject starts with this are remembered: their reply proves the
        /// server processed them (and everything before), so they are not re-sent after a loss.
        public var replyPrefix = "_INBOX."
        /// How many such replies are remembered at once.
        public var maxTrackedReplies = 65_536
        /// Whether the configured servers are shuffled.
        public var randomize = true

        /// Creates the default configuration.
        public init() {}
    }

    /// What the driver must do, in order.
    public enum Action {
        /// Open a stream to this server within `timeout`; then call `streamOpened` or `connectFailed`.
        case connect(NATSServerAddress, timeout: Duration)
        /// Write these bytes now, ahead of the outbound stream (the CONNECT handshake).
        case writeHandshake([UInt8])
        /// Run the TLS handshake on the open stream, checking the certificate against
        /// `serverName`; then call `tlsEstablished(now:)` (or `connectionLost` on failure).
        case startTLS(serverName: String)
        /// Load the configured credentials and sign the challenge's nonce, then call
        /// `credentialsProvided(_:attempt:now:)` or `credentialsFailed(_:attempt:now:)`.
        case authenticate(NATSAuthenticationChallenge)
        /// The outbound stream has bytes: make sure the writer runs.
        case wakeWriter
        /// Close the current stream, if there is one.
        case closeStream
        /// Resume this waiter with success.
        case succeed(Waiter)
        /// Resume this waiter with an error.
        case fail(Waiter, NATSError)
        /// Resume this request waiter with its reply.
        case respond(Waiter, NATSMessage)
        /// End this subscription (with an error, if given) once its queued messages are taken.
        case finish(Subscriber, NATSError?)
        /// Publish this event.
        case emit(NATSEvent)
        /// The client is closed: stop the I/O thread.
        case stop
    }

    /// Where the connection is, as the client reports it.
    public enum Status: Sendable, Equatable {
        case connecting, connected, reconnecting, draining, closing, closed
    }

    /// What became of a publish.
    public enum PublishResult {
        /// The frame is in the outbound stream.
        case appended
        /// Refused; nothing was buffered.
        case rejected(NATSError)
        /// No room now (connected, the writer is behind): wait for room and try again.
        case full
    }

    /// Where a received message goes.
    public enum Delivery {
        /// To this subscriber; `last` when it was its auto-unsubscribe count's last message.
        case subscriber(Subscriber, last: Bool)
        /// The reply to a request.
        case response(Waiter)
        /// A failed request (503: no responders).
        case failedRequest(Waiter, NATSError)
        /// Nobody wants it (unsubscribed, or past an auto-unsubscribe count).
        case drop
    }

    struct Connecting {
        var server: Int
        var initial: Bool
        var handshake: NATSHandshake?
        var deadline: MonotonicInstant?
        /// Numbers the attempts, so an answer to an old challenge is recognised.
        var attempt: UInt64 = 0
        /// What the credentials sent in CONNECT were, to explain a rejection.
        var sentCredentials: NATSAuthenticationResponse?
    }

    struct Connected {
        var server: Int
        var endpoint: String
        var nextKeepalive: MonotonicInstant
        var outstandingKeepalives = 0
        var nextConfirm: MonotonicInstant
        /// When the client leaves a lame-duck server.
        var lameDuckMoveAt: MonotonicInstant?
        /// Once moving: give up waiting for the confirming PONG at this instant.
        var moveDeadline: MonotonicInstant?
    }

    enum Phase {
        case idle
        case connecting(Connecting)
        case connected(Connected)
        case waiting(until: MonotonicInstant, server: Int)
        case closed
    }

    struct PoolEntry {
        var address: NATSServerAddress
        var implicit: Bool
        var failures = 0
        var lastAttempt: MonotonicInstant?
    }

    /// A live subscription's wire state; a class so the hot path updates it through one reference.
    /// Unchecked: entries are reachable only through the machine, which its owner guards.
    @usableFromInline
    final class SubEntry: @unchecked Sendable {
        @usableFromInline let subscriber: Subscriber?
        let subject: String
        let queue: String?
        @usableFromInline var max: Int?
        @usableFromInline var delivered = 0

        init(subscriber: Subscriber?, subject: String, queue: String?) {
            self.subscriber = subscriber
            self.subject = subject
            self.queue = queue
        }
    }

    struct PendingRequest {
        var waiter: Waiter
        var subject: String
        var timeout: Duration
    }

    /// The largest max_payload the protocol allows (nats-server refuses to configure more).
    public static var maxPayloadLimit: Int { 64 * 1024 * 1024 }

    public private(set) var configuration: Configuration
    var phase: Phase = .idle {
        didSet {
            switch phase {
            case .connected: isConnected = true; isClosed = false
            case .closed: isConnected = false; isClosed = true
            default: isConnected = false; isClosed = false
            }
        }
    }
    /// True in the steady state (messages are routed by `messageReceived`). Kept beside the
    /// phase so the hot paths read a flag instead of copying the phase.
    public private(set) var isConnected = false
    /// True once closed for good.
    public private(set) var isClosed = false
    var pool: [PoolEntry]
    var rng: NATSRandom
    /// The outbound stream (pending, unconfirmed, PINGs).
    public internal(set) var outbound = NATSOutboundStream()
    @usableFromInline var subs: [UInt64: SubEntry] = [:]
    var nextSID: UInt64 = 0
    var muxSID: UInt64?
    @usableFromInline var lastSID: UInt64 = 0
    @usableFromInline var lastEntry: SubEntry?
    var requests: [String: PendingRequest] = [:]
    var requestDeadlines = DeadlineQueue<String>()
    var nextRequestToken: UInt64 = 0
    var flushWaiters: [UInt64: (waiter: Waiter, timeout: Duration)] = [:]
    var flushDeadlines = DeadlineQueue<UInt64>()
    var spaceWaiters: [UInt64: Waiter] = [:]
    var spaceDeadlines = DeadlineQueue<UInt64>()
    var nextWaiterID: UInt64 = 0
    var nextAttempt: UInt64 = 0
    var closeWaiters: [Waiter] = []
    var connectWaiter: Waiter?
    var closingDeadline: MonotonicInstant?
    var draining = false
    var lastValidSubject = ""
    /// Publishes awaiting a reply, oldest first: reply subject and the stream offset just past
    /// the publish that asked for it.
    var awaitedReplies = AwaitedReplies()
    var disconnectedAt: MonotonicInstant?
    var lastError: NATSError?
    /// The server a lame-duck move leaves; the next pick avoids it.
    var avoidServer: String?
    /// The INFO of the server currently (or last) connected.
    public private(set) var serverInfo: NATSServerInfo?
    /// The largest payload (headers included) the server accepts.
    public private(set) var maxPayload = NATSProtocolConstants.defaultMaxPayload
    /// `host:port` of the server currently (or last) connected.
    public private(set) var currentEndpoint = ""
    /// Published messages given up unconfirmed.
    public private(set) var lostMessages = 0

    /// Creates a machine for `servers` (shuffled unless `configuration.randomize` is false);
    /// `seed` drives jitter, shuffling and lame-duck delays.
    public init(configuration: Configuration, servers: [NATSServerAddress], seed: UInt64) {
        self.configuration = configuration
        rng = NATSRandom(seed: seed)
        // Buffers sized for a full write-ahead never grow (and never reallocate) while publishing.
        outbound = NATSOutboundStream(capacity: configuration.writeAhead + 16 * 1024)
        pool = servers.map { PoolEntry(address: $0, implicit: false) }
        if configuration.randomize { pool.shuffle(using: &rng) }
    }

    // MARK: - Queries

    /// The status the client reports.
    public var status: Status {
        switch phase {
        case .idle: return .connecting
        case .connecting(let c) where c.initial: return .connecting
        case .connecting, .waiting: return closingDeadline != nil ? .closing : .reconnecting
        case .connected:
            if closingDeadline != nil { return .closing }
            return draining ? .draining : .connected
        case .closed: return .closed
        }
    }

    /// The servers known: configured ones and those learned from the cluster.
    public var knownServers: [NATSServerAddress] { pool.map(\.address) }

    /// The earliest instant at which `timerFired(now:)` has something to do.
    public var nextDeadline: MonotonicInstant? {
        var earliest = requestDeadlines.earliest
        func consider(_ instant: MonotonicInstant?) {
            guard let instant else { return }
            if earliest == nil || instant < earliest! { earliest = instant }
        }
        consider(flushDeadlines.earliest)
        consider(spaceDeadlines.earliest)
        switch phase {
        case .connecting(let c): consider(c.deadline)
        case .waiting(let until, _): consider(until)
        case .connected(let c):
            consider(c.nextKeepalive)
            if outbound.unconfirmedBytes > 0 || !outbound.pending.isEmpty { consider(c.nextConfirm) }
            consider(c.lameDuckMoveAt)
            consider(c.moveDeadline)
            consider(closingDeadline)
        case .idle, .closed: break
        }
        return earliest
    }

    // MARK: - Connecting

    /// Starts the first connection; `waiter` succeeds once connected or fails when every
    /// configured server failed once.
    public mutating func start(waiter: Waiter, now: MonotonicInstant) -> [Action] {
        guard case .idle = phase else { return [.fail(waiter, NATSError(.connectionClosed, "the client was already started"))] }
        connectWaiter = waiter
        if pool.isEmpty { return finalize(error: NATSError(.invalidConfiguration, "no server to connect to; set NATS_URL or NATSOptions.servers")) }
        return beginConnect(server: 0, initial: true, now: now)
    }

    mutating func beginConnect(server: Int, initial: Bool, now: MonotonicInstant) -> [Action] {
        pool[server].lastAttempt = now
        nextAttempt += 1
        phase = .connecting(Connecting(server: server, initial: initial, attempt: nextAttempt))
        let address = pool[server].address
        return [.connect(address, timeout: configuration.connectTimeout)]
    }

    /// The stream to the server is open: the handshake starts (the server speaks first).
    /// `usesTLS`: the stream is already encrypted (TLS-first).
    public mutating func streamOpened(now: MonotonicInstant, usesTLS: Bool = false) -> [Action] {
        guard case .connecting(var c) = phase, c.handshake == nil else { return [.closeStream] }
        let address = pool[c.server].address
        var connect = configuration.connect
        if let user = address.user ?? (address.token == nil ? configuration.user : nil) {
            connect.user = user
            connect.pass = address.password ?? configuration.password
        } else if let token = address.token ?? configuration.token {
            connect.authToken = token
        }
        c.handshake = NATSHandshake(connectOptions: connect, usesTLS: usesTLS,
                                    wantsTLS: address.tls || configuration.tlsConfigured,
                                    requiresCredentials: configuration.credentialsConfigured)
        c.deadline = now.advanced(by: configuration.connectTimeout)
        phase = .connecting(c)
        return []
    }

    /// The TLS handshake that `.startTLS` asked for is done: CONNECT goes out encrypted.
    public mutating func tlsEstablished(now: MonotonicInstant) -> [Action] {
        guard case .connecting(var c) = phase, var handshake = c.handshake else { return [] }
        let step = handshake.tlsEstablished()
        c.handshake = handshake
        phase = .connecting(c)
        if case .write(let bytes) = step { return [.writeHandshake(bytes)] }
        if case .authenticate(let nonce) = step { return [.authenticate(challenge(c, nonce: nonce))] }
        return []
    }

    /// Opening the stream or the handshake failed.
    public mutating func connectFailed(_ error: NATSError, now: MonotonicInstant) -> [Action] {
        guard case .connecting(let c) = phase else { return [] }
        lastError = error
        if c.initial {
            if c.server + 1 < pool.count { return beginConnect(server: c.server + 1, initial: true, now: now) }
            return finalize(error: error)
        }
        if c.server < pool.count {
            pool[c.server].failures += 1
            if configuration.maxReconnectAttempts >= 0, pool[c.server].failures > configuration.maxReconnectAttempts {
                pool.remove(at: c.server)
                if pool.isEmpty {
                    return finalize(error: NATSError(.connectionFailed,
                                                     "gave up reconnecting after \(configuration.maxReconnectAttempts) attempts per server; last error: \(error.message). Set maxReconnectAttempts to -1 to retry forever",
                                                     underlying: error))
                }
                return scheduleReconnect(after: c.server - 1, now: now)
            }
        }
        return scheduleReconnect(after: c.server, now: now)
    }

    /// Picks the server after `index` and connects now or after its backoff.
    mutating func scheduleReconnect(after index: Int, now: MonotonicInstant) -> [Action] {
        if let limit = configuration.reconnectTimeLimit, let since = disconnectedAt, now.duration(since: since) >= limit {
            let last = lastError.map { "; last error: \($0.message)" } ?? ""
            return finalize(error: NATSError(.connectionFailed,
                                             "gave up reconnecting after \(limit) without a connection\(last); raise reconnectTimeLimit or set it to nil to retry without a time limit",
                                             underlying: lastError))
        }
        var next = (index + 1 + pool.count) % pool.count
        if let avoid = avoidServer, pool.count > 1, pool[next].address.endpoint == avoid {
            next = (next + 1) % pool.count
        }
        avoidServer = nil
        var wait = Duration.zero
        if let last = pool[next].lastAttempt {
            let since = now.duration(since: last)
            if since < configuration.reconnectWait { wait = configuration.reconnectWait - since }
        }
        if wait > .zero, configuration.reconnectJitter > .zero {
            wait += .nanoseconds(Int64.random(in: 0...max(0, configuration.reconnectJitter.nanosecondsClamped), using: &rng))
        }
        if wait <= .zero { return beginConnect(server: next, initial: false, now: now) }
        phase = .waiting(until: now.advanced(by: wait), server: next)
        return []
    }

    mutating func handshakeFinished(_ c: Connecting, info: NATSServerInfo, now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        let endpoint = pool[c.server].address.endpoint
        applyInfo(info, endpoint: endpoint, into: &actions)
        currentEndpoint = endpoint
        pool[c.server].failures = 0
        disconnectedAt = nil
        lastError = nil
        // What the new server must see first: live SUBs with their remaining auto-unsubscribe
        // counts, then every byte no server confirmed, then what was published meanwhile.
        var prefix: [UInt8] = []
        for (sid, entry) in subs.sorted(by: { $0.key < $1.key }) {
            NATSEncoder.appendSubscribe(subject: entry.subject, queue: entry.queue, sid: sid, into: &prefix)
            if let max = entry.max {
                NATSEncoder.appendUnsubscribe(sid: sid, max: Swift.max(1, max - entry.delivered), into: &prefix)
            }
        }
        outbound.prepareResend(prefix: prefix)
        awaitedReplies.removeAll()
        var connected = Connected(server: c.server, endpoint: endpoint,
                                  nextKeepalive: now.advanced(by: configuration.pingInterval),
                                  nextConfirm: now.advanced(by: configuration.confirmDelay))
        if c.initial {
            if let waiter = connectWaiter {
                connectWaiter = nil
                actions.insert(.succeed(waiter), at: 0)
            }
            actions.insert(.emit(.connected(server: endpoint)), at: 0)
        } else {
            actions.insert(.emit(.reconnected(server: endpoint)), at: 0)
        }
        if info.lameDuckMode { scheduleLameDuckMove(&connected, now: now, into: &actions) }
        phase = .connected(connected)
        if !outbound.pending.isEmpty { actions.append(.wakeWriter) }
        resumeSpaceWaiters(into: &actions)
        return actions
    }

    /// Takes INFO fields: limits (checked), learned servers.
    mutating func applyInfo(_ info: NATSServerInfo, endpoint: String, into actions: inout [Action]) {
        var info = info
        if info.maxPayload < 1 || info.maxPayload > Self.maxPayloadLimit {
            let clamped = info.maxPayload < 1 ? NATSProtocolConstants.defaultMaxPayload : Self.maxPayloadLimit
            actions.append(.emit(.error(NATSError(.protocolError,
                "server \(endpoint) announced max_payload \(info.maxPayload), outside 1...\(Self.maxPayloadLimit); using \(clamped) instead. Check the server's max_payload setting",
                server: endpoint))))
            info.maxPayload = clamped
        }
        serverInfo = info
        maxPayload = info.maxPayload
        let learned = learn(urls: info.connectURLs, from: endpoint)
        if !learned.isEmpty { actions.append(.emit(.discoveredServers(learned))) }
    }

    /// Adds servers from INFO's `connect_urls`; they inherit the scheme and credentials of the
    /// server that announced them.
    mutating func learn(urls: [String], from endpoint: String) -> [String] {
        let template = pool.first { $0.address.endpoint == endpoint }?.address
        var added: [String] = []
        for url in urls {
            guard var address = try? NATSServerAddress(parsing: url) else { continue }
            if pool.contains(where: { $0.address.host == address.host && $0.address.port == address.port }) { continue }
            if let template {
                address.tls = address.tls || template.tls
                if address.hostIsIPAddress && !template.hostIsIPAddress {
                    address.tlsName = template.tlsName ?? template.host
                }
                if address.user == nil && address.token == nil {
                    address.user = template.user
                    address.password = template.password
                    address.token = template.token
                }
            }
            pool.append(PoolEntry(address: address, implicit: true))
            added.append(address.description)
        }
        return added
    }

    // MARK: - Received frames

    /// A frame other than MSG arrived (or any frame during the handshake).
    public mutating func received(_ op: NATSServerOp, now: MonotonicInstant) -> [Action] {
        switch phase {
        case .connecting(var c):
            guard var handshake = c.handshake else { return [] }
            let step = handshake.received(op)
            c.handshake = handshake
            phase = .connecting(c)
            let endpoint = pool[c.server].address.endpoint
            switch step {
            case .none: return []
            case .write(let bytes): return [.writeHandshake(bytes)]
            case .startTLS:
                let address = pool[c.server].address
                return [.startTLS(serverName: address.tlsName ?? address.host)]
            case .authenticate(let nonce):
                return [.authenticate(challenge(c, nonce: nonce))]
            case .completed(let info): return handshakeFinished(c, info: info, now: now)
            case .fail(let failure):
                let error: NATSError
                switch failure {
                case .serverError(let text):
                    var serverError = NATSError.from(serverError: text, server: endpoint)
                    if serverError.code == .authorizationViolation {
                        serverError = rejection(text: text, endpoint: endpoint, sent: c.sentCredentials)
                    }
                    error = serverError
                case .tlsUnavailable:
                    error = NATSError(.tlsRequired,
                                      "TLS was asked for (tls:// or TLS options), but server \(endpoint) does not offer TLS; enable TLS on the server or connect without it",
                                      server: endpoint)
                case .unexpected(let problem):
                    error = NATSError(.protocolError, problem.description, server: endpoint, underlying: problem)
                }
                return [.closeStream] + connectFailed(error, now: now)
            }
        case .connected(var c):
            var actions: [Action] = []
            switch op {
            case .msg(let message):
                switch messageReceived(sid: message.sid, subject: message.subject, status: message.status) {
                case .subscriber(let subscriber, let last):
                    // Only tests route messages this way; the driver batches them.
                    _ = subscriber
                    _ = last
                case .response(let waiter): actions.append(.respond(waiter, message))
                case .failedRequest(let waiter, let error): actions.append(.fail(waiter, error))
                case .drop: break
                }
            case .ping:
                outbound.appendPong()
                if outbound.control.count > configuration.maxControlBytes {
                    return lose(NATSError(.protocolError,
                                          "server \(c.endpoint) sent PINGs faster than their PONGs could be written (\(outbound.control.count) bytes queued); disconnecting",
                                          server: c.endpoint), now: now)
                }
                actions.append(.wakeWriter)
            case .pong:
                c.outstandingKeepalives = 0
                phase = .connected(c)
                let kind = outbound.pongReceived()
                resumeSpaceWaiters(into: &actions)
                switch kind {
                case .flush(let id)?:
                    if let entry = flushWaiters.removeValue(forKey: id) { actions.append(.succeed(entry.waiter)) }
                case .switchServer?:
                    return actions + moveFromLameDuck(now: now)
                default: break
                }
                if closingDeadline != nil, outbound.pending.isEmpty, outbound.unconfirmedBytes == 0 {
                    return actions + finalize(error: nil)
                }
            case .ok:
                break
            case .info(let info):
                applyInfo(info, endpoint: c.endpoint, into: &actions)
                if info.lameDuckMode, c.lameDuckMoveAt == nil, c.moveDeadline == nil {
                    scheduleLameDuckMove(&c, now: now, into: &actions)
                    phase = .connected(c)
                }
            case .err(let text):
                lastEntry = nil   // a permission error may remove subscriptions
                let error = NATSError.from(serverError: text, server: c.endpoint)
                if error.code == .permissionViolation {
                    handlePermissionViolation(error, text: text, into: &actions)
                } else if NATSServerErrorTable.classify(text).closesConnection {
                    return actions + lose(error, now: now)
                } else {
                    actions.append(.emit(.error(error)))
                }
            }
            return actions
        case .idle, .waiting, .closed:
            return []
        }
    }

    /// Routes a MSG/HMSG (steady state only): the hot path, no allocation.
    @inline(__always)
    @inlinable
    public mutating func messageReceived(sid: UInt64, subject: String, status: Int?) -> Delivery {
        replyArrived(subject)
        let entry: SubEntry
        if let cached = lastEntry, lastSID == sid {
            entry = cached
        } else {
            guard let found = subs[sid] else { return .drop }
            entry = found
            lastSID = sid
            lastEntry = found
        }
        guard let subscriber = entry.subscriber else {
            return routeResponse(subject: subject, status: status)
        }
        entry.delivered += 1
        if let max = entry.max, entry.delivered >= max {
            subs[sid] = nil
            lastEntry = nil
            if entry.delivered > max { return .drop }
            return .subscriber(subscriber, last: true)
        }
        return .subscriber(subscriber, last: false)
    }

    @usableFromInline
    mutating func routeResponse(subject: String, status: Int?) -> Delivery {
        let prefixLength = configuration.inboxPrefix.utf8.count + 1
        guard subject.utf8.count > prefixLength else { return .drop }
        let token = String(subject.dropFirst(prefixLength))
        guard let pending = requests.removeValue(forKey: token) else { return .drop }
        if status == NATSStatusCode.noResponders {
            return .failedRequest(pending.waiter, NATSError(.noResponders,
                "no responders for request to '\(pending.subject)': nothing subscribes to that subject; start a responder or check the subject",
                server: currentEndpoint, subject: pending.subject))
        }
        return .response(pending.waiter)
    }

    /// 'Permissions Violation for Publish to "x"' fails requests to x;
    /// 'Permissions Violation for Subscription to "x"' ends subscriptions on x (every request when x is the inbox).
    mutating func handlePermissionViolation(_ error: NATSError, text: String, into actions: inout [Action]) {
        actions.append(.emit(.error(error)))
        let subject = Self.quotedSubject(in: text)
        let lower = text.lowercased()
        var failure = error
        failure.subject = subject
        guard let subject else { return }
        if lower.contains("for publish") {
            for (token, pending) in requests where pending.subject == subject {
                requests[token] = nil
                var requestError = failure
                requestError.message = "request to '\(subject)' refused: the server denies publish permission on it (\(text)); grant the permission or use another subject"
                actions.append(.fail(pending.waiter, requestError))
            }
        } else if lower.contains("for subscription") {
            if let mux = muxSID, subs[mux]?.subject == subject {
                subs[mux] = nil
                muxSID = nil
                for (_, pending) in requests {
                    var requestError = failure
                    requestError.message = "request to '\(pending.subject)' failed: the server denies subscribing to the reply inbox '\(subject)' (\(text)); allow subscribe on the inbox prefix or set inboxPrefix"
                    actions.append(.fail(pending.waiter, requestError))
                }
                requests = [:]
                return
            }
            for (sid, entry) in subs where entry.subject == subject {
                subs[sid] = nil
                if let subscriber = entry.subscriber { actions.append(.finish(subscriber, failure)) }
            }
        }
    }

    static func quotedSubject(in text: String) -> String? {
        guard let open = text.firstIndex(of: "\"") else { return nil }
        let rest = text[text.index(after: open)...]
        guard let close = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<close])
    }

    // MARK: - Loss, timers, lame duck

    /// The stream failed or the peer closed it (reported by the driver, which closed it already).
    public mutating func connectionLost(_ error: NATSError?, now: MonotonicInstant) -> [Action] {
        switch phase {
        case .connected: return lose(error, now: now)
        case .connecting(let c) where c.handshake != nil: return lose(error, now: now)
        default: return []
        }
    }

    /// Drops the current connection and decides what comes next.
    mutating func lose(_ error: NATSError?, now: MonotonicInstant) -> [Action] {
        switch phase {
        case .connecting:
            return [.closeStream] + connectFailed(error ?? NATSError(.connectionFailed, "connection closed during the handshake"), now: now)
        case .connected(let c):
            if closingDeadline != nil { return [.closeStream] + finalize(error: nil) }
            var actions: [Action] = [.closeStream, .emit(.disconnected(server: c.endpoint, error: error))]
            lastError = error
            disconnectedAt = disconnectedAt ?? now
            lastEntry = nil
            guard configuration.allowReconnect else {
                return actions + finalize(error: error ?? NATSError(.disconnected, "disconnected from \(c.endpoint) and reconnect is disabled", server: c.endpoint))
            }
            resumeSpaceWaiters(into: &actions)
            return actions + scheduleReconnect(after: c.server, now: now)
        default:
            return []
        }
    }

    /// Time passed: expires waiters and runs the connection's timers.
    public mutating func timerFired(now: MonotonicInstant) -> [Action] {
        var actions: [Action] = []
        for token in requestDeadlines.popExpired(now: now) {
            guard let pending = requests.removeValue(forKey: token) else { continue }
            actions.append(.fail(pending.waiter, NATSError(.timeout,
                "request to '\(pending.subject)' got no reply within \(pending.timeout); check that a responder is running or raise the timeout",
                subject: pending.subject)))
        }
        for id in flushDeadlines.popExpired(now: now) {
            guard let entry = flushWaiters.removeValue(forKey: id) else { continue }
            actions.append(.fail(entry.waiter, NATSError(.timeout,
                "flush did not complete within \(entry.timeout): no PONG from the server; check the connection or raise flushTimeout")))
        }
        for id in spaceDeadlines.popExpired(now: now) {
            if let waiter = spaceWaiters.removeValue(forKey: id) { actions.append(.succeed(waiter)) }
        }
        switch phase {
        case .connecting(let c):
            if let deadline = c.deadline, now >= deadline {
                let endpoint = pool[c.server].address.endpoint
                return actions + [.closeStream] + connectFailed(NATSError(.connectionFailed,
                    "handshake with \(endpoint) timed out after \(configuration.connectTimeout); is this a NATS server?", server: endpoint), now: now)
            }
        case .waiting(let until, let server):
            if now >= until { return actions + beginConnect(server: server, initial: false, now: now) }
        case .connected(var c):
            if let deadline = closingDeadline, now >= deadline { return actions + finalize(error: nil) }
            if let deadline = c.moveDeadline, now >= deadline { return actions + moveFromLameDuck(now: now) }
            if let at = c.lameDuckMoveAt, now >= at {
                // Confirm what was written, then move once the PONG arrives (or at the deadline).
                c.lameDuckMoveAt = nil
                c.moveDeadline = now.advanced(by: configuration.closeTimeout)
                outbound.appendPing(.switchServer)
                actions.append(.wakeWriter)
            }
            if now >= c.nextConfirm {
                c.nextConfirm = now.advanced(by: configuration.confirmDelay)
                if outbound.unconfirmedBytes > 0 || !outbound.pending.isEmpty,
                   outbound.lastPingEnd < outbound.appended, outbound.outstandingPings == 0 {
                    outbound.appendPing(.confirm)
                    actions.append(.wakeWriter)
                }
            }
            if now >= c.nextKeepalive {
                c.nextKeepalive = now.advanced(by: configuration.pingInterval)
                if c.outstandingKeepalives >= configuration.maxPingsOutstanding {
                    phase = .connected(c)
                    return actions + lose(NATSError(.staleConnection,
                        "no PONG for \(configuration.maxPingsOutstanding) keep-alive PINGs from \(c.endpoint); the connection is stale",
                        server: c.endpoint), now: now)
                }
                c.outstandingKeepalives += 1
                outbound.appendPing(.keepalive)
                actions.append(.wakeWriter)
            }
            phase = .connected(c)
        case .idle, .closed:
            break
        }
        return actions
    }

    mutating func scheduleLameDuckMove(_ c: inout Connected, now: MonotonicInstant, into actions: inout [Action]) {
        actions.append(.emit(.lameDuckMode(server: c.endpoint)))
        let window = max(0, configuration.lameDuckWindow.nanosecondsClamped)
        let delay = window > 0 ? Int64.random(in: 0...window, using: &rng) : 0
        c.lameDuckMoveAt = now.advanced(by: .nanoseconds(delay))
    }

    /// Leaves a lame-duck server for another one: nothing confirmed is re-sent, nothing
    /// unconfirmed is lost (it is re-sent to the next server).
    mutating func moveFromLameDuck(now: MonotonicInstant) -> [Action] {
        guard case .connected(let c) = phase else { return [] }
        avoidServer = pool.count > 1 ? c.endpoint : nil
        // A move is no failure: the next server is tried at once.
        for index in pool.indices where pool[index].address.endpoint != c.endpoint { pool[index].lastAttempt = nil }
        disconnectedAt = now
        lastEntry = nil
        var actions: [Action] = [.closeStream, .emit(.disconnected(server: c.endpoint, error: nil))]
        resumeSpaceWaiters(into: &actions)
        return actions + scheduleReconnect(after: c.server, now: now)
    }

    // MARK: - Writing

    /// Takes bytes for the writer: PONG replies first, then the pending stream. Returns nil when
    /// nothing is left; `released` collects publishers waiting for room.
    public mutating func takeChunk(released: inout [Waiter]) -> [UInt8]? {
        guard isConnected else { return nil }
        if let control = outbound.takeControl() {
            if outbound.pending.isEmpty { return control }
            // One write: replies first, then data (the data part is retained by the stream).
            var combined = control
            if let data = outbound.takeChunk(confirmInterval: configuration.confirmInterval) { combined.append(contentsOf: data) }
            takeSpaceWaiters(into: &released)
            return combined
        }
        guard let chunk = outbound.takeChunk(confirmInterval: configuration.confirmInterval) else { return nil }
        takeSpaceWaiters(into: &released)
        return chunk
    }

    /// True when the writer has something to take.
    public var hasPendingOutput: Bool { isConnected && (!outbound.pending.isEmpty || !outbound.control.isEmpty) }

    mutating func takeSpaceWaiters(into released: inout [Waiter]) {
        guard !spaceWaiters.isEmpty else { return }
        released.append(contentsOf: spaceWaiters.values)
        spaceWaiters.removeAll(keepingCapacity: true)
        spaceDeadlines.removeAll()
    }

    mutating func resumeSpaceWaiters(into actions: inout [Action]) {
        var released: [Waiter] = []
        takeSpaceWaiters(into: &released)
        for waiter in released { actions.append(.succeed(waiter)) }
    }

    // MARK: - User requests

    /// Checks a frame against the state, the subject, max_payload and the buffer bound: one rule
    /// for publishes and requests.
    @inline(__always)
    mutating func admit(subject: String, frameSize: Int, payloadSize: Int) -> PublishResult {
        if isClosed {
            return .rejected(NATSError(.connectionClosed, "cannot publish to '\(subject)': the connection is closed; create a new client", subject: subject))
        }
        if closingDeadline != nil {
            return .rejected(NATSError(.connectionClosed, "cannot publish to '\(subject)': the connection is closing", subject: subject))
        }
        if subject != lastValidSubject {
            if let problem = NATSValidation.subjectProblem(subject) { return .rejected(.invalidName("subject", subject, problem)) }
            lastValidSubject = subject
        }
        if payloadSize > maxPayload {
            return .rejected(NATSError(.maxPayloadExceeded,
                "message for '\(subject)' is \(payloadSize) bytes (payload plus headers), over the server's max_payload of \(maxPayload); send smaller messages or raise max_payload on the server",
                subject: subject))
        }
        let retained = outbound.retainedBytes
        if !isConnected, retained + frameSize > configuration.reconnectBufferSize, retained > 0 {
            return .rejected(NATSError(.reconnectBufferExceeded,
                "cannot buffer the message for '\(subject)' while disconnected: the reconnect buffer of \(configuration.reconnectBufferSize) bytes is full; retry after reconnecting or raise reconnectBufferSize",
                subject: subject))
        }
        // The same rule a publisher waiting for room is resumed by.
        return hasRoom(frameSize: frameSize) ? .appended : .full
    }

    /// A publish: admitted frames are written by `encode` straight into the outbound stream.
    @inline(__always)
    public mutating func publish(subject: String, replyTo: String? = nil, frameSize: Int, payloadSize: Int,
                                 _ encode: (inout [UInt8]) -> Void) -> PublishResult {
        let verdict = admit(subject: subject, frameSize: frameSize, payloadSize: payloadSize)
        guard case .appended = verdict else { return verdict }
        outbound.append(encode)
        if let replyTo { trackReply(replyTo) }
        return .appended
    }

    /// Remembers where the publish asking for `reply` ends, so its reply confirms it.
    mutating func trackReply(_ reply: String) {
        guard reply.utf8.starts(with: configuration.replyPrefix.utf8) else { return }
        awaitedReplies.dropConfirmed(upTo: outbound.confirmed)
        guard awaitedReplies.count < configuration.maxTrackedReplies else { return }
        awaitedReplies.append(reply, end: outbound.appended)
    }

    /// A message arrived on a subject a publish asked replies on: the server processed that
    /// publish, so everything up to it counts as confirmed.
    @inline(__always)
    @usableFromInline
    mutating func replyArrived(_ subject: String) {
        guard !awaitedReplies.isEmpty, let end = awaitedReplies.match(subject) else { return }
        outbound.confirm(upTo: end)
    }

    /// Registers `waiter` to be resumed when room may have appeared (or at `deadline`).
    ///
    /// When a frame of `frameSize` bytes fits already (the writer took a chunk or a PONG confirmed
    /// bytes between the caller's full publish and this call), the waiter is resumed at once:
    /// left waiting, nothing else would resume it before its deadline.
    public mutating func waitForRoom(_ waiter: Waiter, frameSize: Int, deadline: MonotonicInstant) -> [Action] {
        if case .closed = phase { return [.succeed(waiter)] }
        if hasRoom(frameSize: frameSize) { return [.succeed(waiter)] }
        nextWaiterID += 1
        spaceWaiters[nextWaiterID] = waiter
        spaceDeadlines.insert(deadline, nextWaiterID)
        return isConnected ? [.wakeWriter] : []
    }

    /// Whether a publish of `frameSize` bytes would now get past the outbound bounds (it may
    /// still be rejected for other reasons, which the publish then reports).
    public func hasRoom(frameSize: Int) -> Bool {
        guard isConnected else { return true }
        let retained = outbound.retainedBytes
        if retained + frameSize > configuration.reconnectBufferSize, retained > 0 { return false }
        return outbound.pending.count <= configuration.writeAhead && outbound.unconfirmedBytes <= configuration.maxUnconfirmed
    }

    /// The size of the next request's frame (at least: a later token may be a byte longer), for
    /// a wait for room.
    public func requestFrameSize(subject: String, headerBytes: Int, payloadBytes: Int) -> Int {
        let reply = configuration.inboxPrefix + "." + String(nextRequestToken + 1, radix: 36)
        return NATSEncoder.publishFrameSize(subject: subject, replyTo: reply, headerBytes: headerBytes, payloadBytes: payloadBytes) + 1
    }

    /// A request: publishes with a reply subject on the shared inbox; `waiter` gets the reply,
    /// or fails at `deadline`.
    public mutating func request(subject: String, headerBlock: [UInt8]?, payload: UnsafeRawBufferPointer,
                                 waiter: Waiter, timeout: Duration, now: MonotonicInstant) -> PublishResult {
        if draining {
            return .rejected(NATSError(.connectionClosed, "cannot send request to '\(subject)': the connection is draining", subject: subject))
        }
        // The reply subject is built first so the frame is measured as it will be written; the
        // token is used only once the request is admitted.
        let token = String(nextRequestToken + 1, radix: 36)
        let reply = configuration.inboxPrefix + "." + token
        let size = NATSEncoder.publishFrameSize(subject: subject, replyTo: reply,
                                                headerBytes: headerBlock?.count ?? 0, payloadBytes: payload.count)
        let verdict = admit(subject: subject, frameSize: size, payloadSize: payload.count + (headerBlock?.count ?? 0))
        guard case .appended = verdict else { return verdict }
        if muxSID == nil {
            nextSID += 1
            muxSID = nextSID
            let muxSubject = configuration.inboxPrefix + ".*"
            subs[nextSID] = SubEntry(subscriber: nil, subject: muxSubject, queue: nil)
            let sid = nextSID
            outbound.append { NATSEncoder.appendSubscribe(subject: muxSubject, queue: nil, sid: sid, into: &$0) }
        }
        nextRequestToken += 1
        requests[token] = PendingRequest(waiter: waiter, subject: subject, timeout: timeout)
        requestDeadlines.insert(now.advanced(by: timeout), token)
        outbound.append { buffer in
            if let headerBlock {
                NATSEncoder.appendHeaderPublish(subject: subject, replyTo: reply, headerBlock: headerBlock, payload: payload, into: &buffer)
            } else {
                NATSEncoder.appendPublish(subject: subject, replyTo: reply, payload: payload, into: &buffer)
            }
        }
        trackReply(reply)
        return .appended
    }

    /// A flush: a PING whose PONG resumes `waiter`; it fails after `timeout`.
    public mutating func flush(waiter: Waiter, timeout: Duration, now: MonotonicInstant) -> [Action] {
        if isClosed || closingDeadline != nil {
            let lost = lostMessages > 0 ? " (\(lostMessages) published messages were never confirmed by a server)" : ""
            return [.fail(waiter, NATSError(.connectionClosed, "flush failed: the connection is closed" + lost))]
        }
        nextWaiterID += 1
        flushWaiters[nextWaiterID] = (waiter, timeout)
        flushDeadlines.insert(now.advanced(by: timeout), nextWaiterID)
        outbound.appendPing(.flush(nextWaiterID))
        return isConnected ? [.wakeWriter] : []
    }

    /// A subscription: `makeSubscriber` gets its sid and returns what messages go to.
    public mutating func subscribe(subject: String, queue: String?,
                                   makeSubscriber: (UInt64) -> Subscriber) -> Result<Subscriber, NATSError> {
        if isClosed || closingDeadline != nil || draining {
            return .failure(NATSError(.connectionClosed, "cannot subscribe to '\(subject)': the connection is closed or draining", subject: subject))
        }
        nextSID += 1
        let sid = nextSID
        let subscriber = makeSubscriber(sid)
        subs[sid] = SubEntry(subscriber: subscriber, subject: subject, queue: queue)
        outbound.append { NATSEncoder.appendSubscribe(subject: subject, queue: queue, sid: sid, into: &$0) }
        return .success(subscriber)
    }

    /// Unsubscribes now (`max` nil) or after `max` messages in total. Returns the subscriber to
    /// finish when the subscription ended.
    public mutating func unsubscribe(sid: UInt64, max: Int?) -> Subscriber? {
        guard !isClosed, let entry = subs[sid] else { return nil }
        lastEntry = nil
        if let max, entry.delivered < max {
            entry.max = max
            outbound.append { NATSEncoder.appendUnsubscribe(sid: sid, max: max, into: &$0) }
            return nil
        }
        subs[sid] = nil
        outbound.append { NATSEncoder.appendUnsubscribe(sid: sid, max: nil, into: &$0) }
        return entry.subscriber
    }

    /// Sends UNSUB for `sid` but keeps routing what is already in flight (subscription drain).
    public mutating func stopInterest(sid: UInt64) -> Bool {
        guard !isClosed, subs[sid] != nil else { return false }
        outbound.append { NATSEncoder.appendUnsubscribe(sid: sid, max: nil, into: &$0) }
        return true
    }

    /// Forgets `sid` (after its drain round trip). Returns its subscriber.
    public mutating func removeSubscription(sid: UInt64) -> Subscriber? {
        lastEntry = nil
        return subs.removeValue(forKey: sid)?.subscriber
    }

    /// Starts draining the connection: UNSUB for every subscription, no new subscriptions or
    /// requests. Returns the subscriptions' sids and subscribers.
    public mutating func drainStarted() -> [(sid: UInt64, subscriber: Subscriber)] {
        guard !isClosed, closingDeadline == nil else { return [] }
        draining = true
        var drained: [(UInt64, Subscriber)] = []
        for (sid, entry) in subs.sorted(by: { $0.key < $1.key }) {
            guard let subscriber = entry.subscriber else { continue }
            drained.append((sid, subscriber))
            outbound.append { NATSEncoder.appendUnsubscribe(sid: sid, max: nil, into: &$0) }
        }
        return drained
    }

    /// Closes: waits (up to `closeTimeout`) for the server to confirm what was written, then
    /// finishes everything. `waiter` succeeds once closed.
    public mutating func close(waiter: Waiter, now: MonotonicInstant) -> [Action] {
        if isClosed { return [.succeed(waiter)] }
        closeWaiters.append(waiter)
        if closingDeadline != nil { return [] }
        closingDeadline = now.advanced(by: configuration.closeTimeout)
        guard isConnected else { return finalize(error: nil) }
        if outbound.pending.isEmpty, outbound.unconfirmedBytes == 0 { return finalize(error: nil) }
        if outbound.lastPingEnd < outbound.appended || outbound.outstandingPings == 0 { outbound.appendPing(.confirm) }
        return [.wakeWriter]
    }

    /// Ends the client at once with `error` (the driver could not run it).
    public mutating func abort(error: NATSError) -> [Action] {
        finalize(error: error)
    }

    /// Ends the client: every waiter is resumed, subscriptions end, unconfirmed publishes are
    /// counted as lost and reported.
    mutating func finalize(error: NATSError?) -> [Action] {
        if isClosed { return [] }
        let lost = outbound.unconfirmedPublishCount()
        lostMessages += lost
        phase = .closed
        closingDeadline = closingDeadline ?? MonotonicInstant(nanoseconds: 0)
        var actions: [Action] = [.closeStream]
        let closedError = NATSError(.connectionClosed, "the connection is closed" + (error.map { ": \($0.message)" } ?? ""), underlying: error)
        let lostError = lost > 0
            ? NATSError(.messagesLost, "\(lost) published messages were accepted but never confirmed by a server before the connection closed; they may not have been delivered")
            : nil
        if let waiter = connectWaiter {
            connectWaiter = nil
            actions.append(.fail(waiter, error ?? closedError))
        }
        for (_, pending) in requests { actions.append(.fail(pending.waiter, closedError)) }
        for (_, entry) in flushWaiters { actions.append(.fail(entry.waiter, lostError ?? closedError)) }
        resumeSpaceWaiters(into: &actions)
        for (_, entry) in subs.sorted(by: { $0.key < $1.key }) {
            if let subscriber = entry.subscriber { actions.append(.finish(subscriber, error)) }
        }
        requests = [:]
        flushWaiters = [:]
        subs = [:]
        lastEntry = nil
        requestDeadlines.removeAll()
        flushDeadlines.removeAll()
        outbound.discardAll()
        if let lostError { actions.append(.emit(.error(lostError))) }
        actions.append(.emit(.closed(error: error)))
        for waiter in closeWaiters { actions.append(.succeed(waiter)) }
        closeWaiters = []
        actions.append(.stop)
        return actions
    }
}


extension NATSConnectionStateMachine.Action: Sendable where Waiter: Sendable, Subscriber: Sendable {}
extension NATSConnectionStateMachine.PublishResult: Sendable {}
extension NATSConnectionStateMachine.Delivery: Sendable where Waiter: Sendable, Subscriber: Sendable {}
extension NATSConnectionStateMachine: Sendable where Waiter: Sendable, Subscriber: Sendable {}
extension NATSConnectionStateMachine.PendingRequest: Sendable where Waiter: Sendable, Subscriber: Sendable {}
extension NATSConnectionStateMachine.Connecting: Sendable where Waiter: Sendable, Subscriber: Sendable {}
extension NATSConnectionStateMachine.Connected: Sendable where Waiter: Sendable, Subscriber: Sendable {}
extension NATSConnectionStateMachine.Phase: Sendable where Waiter: Sendable, Subscriber: Sendable {}
extension NATSConnectionStateMachine.PoolEntry: Sendable where Waiter: Sendable, Subscriber: Sendable {}
