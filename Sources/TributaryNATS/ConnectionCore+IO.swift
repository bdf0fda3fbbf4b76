#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization
import TributaryNATSProtocol
import TributaryTransport
import TributaryWire

/// A live socket and its parser, owned by the I/O thread.
struct LiveConnection {
    var socket: TCPSocket
    var parser: NATSParser
    var endpoint: String
}

enum DisconnectReason {
    case closing
    case lost(NATSError)
    case lameDuck
}

extension ConnectionCore {
    /// Starts the I/O thread; `initial` is resumed once the first connection is ready or has failed.
    func start(initial: CheckedContinuation<Result<Void, NATSError>, Never>) {
        let thread = Thread { [self] in
            self.ioMain(initial: initial)
        }
        thread.name = "tributary-nats-io"
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func ioMain(initial: CheckedContinuation<Result<Void, NATSError>, Never>) {
        // Initial connect: each server once, in pool order.
        var connection: LiveConnection?
        var lastError: NATSError?
        let count = state.withLock { $0.pool.count }
        for index in 0..<count {
            if isClosing() { break }
            do {
                connection = try establish(serverIndex: index)
                break
            } catch {
                lastError = error
            }
        }
        guard var live = connection else {
            let error = lastError ?? NATSError(.connectionClosed, "connection closed before it was established")
            finalize(error: error)
            initial.resume(returning: .failure(error))
            return
        }
        initial.resume(returning: .success(()))
        emit(.connected(server: live.endpoint))

        while true {
            let reason = runConnected(&live)
            switch reason {
            case .closing:
                retire(live.socket)
                finalize(error: nil)
                return
            case .lost(let error):
                retire(live.socket)
                if !handleLoss(error: error, endpoint: live.endpoint) { return }
            case .lameDuck:
                retire(live.socket)
                emit(.lameDuckMode(server: live.endpoint))
                if !handleLoss(error: nil, endpoint: live.endpoint) { return }
            }
            guard let next = reconnectLoop() else { return }
            live = next
            emit(.reconnected(server: live.endpoint))
        }
    }

    /// Closes a socket once no publisher can be writing to it directly.
    private func retire(_ socket: TCPSocket) {
        while true {
            let busy = state.withLock { s -> Bool in
                s.socketFD = -1
                s.handoff = nil
                s.ioChunkBusy = false
                return s.directWriteBusy
            }
            if !busy { break }
            usleep(100)
        }
        socket.close()
    }

    private func isClosing() -> Bool {
        state.withLock { $0.status == .closing || $0.status == .closed }
    }

    /// Moves to reconnecting; returns false (after finalizing) when reconnecting is not allowed.
    private func handleLoss(error: NATSError?, endpoint: String) -> Bool {
        let (closing, waiters) = state.withLock { s -> (Bool, Int) in
            if s.status == .closing { return (true, 0) }
            if s.status != .draining { s.status = .reconnecting }
            s.lastError = error
            return (false, s.takeSpaceWaiters())
        }
        releaseSpaceWaiters(waiters)
        if closing {
            finalize(error: nil)
            return false
        }
        emit(.disconnected(server: endpoint, error: error))
        if !options.allowReconnect {
            finalize(error: error ?? NATSError(.disconnected, "disconnected from \(endpoint) and reconnect is disabled"))
            return false
        }
        return true
    }

    // MARK: Connect + handshake

    /// Connects to `pool[serverIndex]` and runs the handshake. Blocking; runs on the I/O thread.
    private func establish(serverIndex: Int) throws(NATSError) -> LiveConnection {
        let address = state.withLock { s -> NATSServerAddress in
            s.pool[serverIndex].lastAttempt = now()
            return s.pool[serverIndex].address
        }
        if address.tls {
            throw NATSError(.tlsRequired, "server \(address) asks for TLS (tls://), which this build does not support; use a nats:// URL to a server without TLS", server: address.endpoint)
        }
        let socket: TCPSocket
        do {
            socket = try TCPSocket.connect(host: address.host, port: address.port, timeout: options.connectTimeout)
        } catch {
            throw NATSError.from(transport: error)
        }
        var success = false
        defer { if !success { socket.close() } }

        var connect = NATSConnectOptions()
        connect.name = options.name
        connect.pedantic = options.pedantic
        connect.echo = options.echo
        if let user = address.user ?? options.user {
            connect.user = user
            connect.pass = address.password ?? options.password
        } else if let token = address.token ?? options.token {
            connect.authToken = token
        }
        var handshake = NATSHandshake(connectOptions: connect)
        var parser = NATSParser(maxControlLine: options.maxControlLine)
        let deadline = now().advanced(by: options.connectTimeout)
        let endpoint = address.endpoint
        var info: NATSServerInfo?
        while info == nil {
            let remaining = deadline.duration(since: now())
            if remaining <= .zero {
                throw NATSError(.connectionFailed, "handshake with \(endpoint) timed out after \(options.connectTimeout); is this a NATS server?", server: endpoint)
            }
            do {
                guard try socket.waitFor(events: Int16(POLLIN), timeout: remaining) else { continue }
                _ = try parser.readInto(minimum: 4096) { (buffer) throws(TransportError) -> Int in
                    switch try socket.read(into: buffer) {
                    case .bytes(let n): return n
                    case .wouldBlock: return 0
                    }
                }
            } catch {
                throw NATSError.from(transport: error)
            }
            while info == nil {
                let op: NATSServerOp?
                do { op = try parser.next() } catch {
                    throw NATSError(.protocolError, error.description, server: endpoint, underlying: error)
                }
                guard let op else { break }
                switch handshake.received(op) {
                case .none: break
                case .write(let bytes):
                    do {
                        try bytes.withBytes { (raw) throws(TransportError) in try socket.writeAll(raw, timeout: remaining) }
                    } catch {
                        throw NATSError.from(transport: error)
                    }
                case .completed(let serverInfo):
                    info = serverInfo
                case .fail(let failure):
                    switch failure {
                    case .serverError(let text):
                        var error = NATSError.from(serverError: text, server: endpoint)
                        if error.code == .authorizationViolation {
                            error.message = "server \(endpoint) rejected the credentials (Authorization Violation); check the user/password or token in the URL or options"
                        }
                        throw error
                    case .tlsRequired:
                        throw NATSError(.tlsRequired, "server \(endpoint) requires TLS, which this build does not support", server: endpoint)
                    case .unexpected(let error):
                        throw NATSError(.protocolError, error.description, server: endpoint, underlying: error)
                    }
                }
            }
        }
        guard let info else { throw NATSError(.connectionFailed, "handshake incomplete", server: endpoint) }
        parser.maxPayload = max(info.maxPayload, 1)

        let (accepted, discovered) = state.withLock { s -> (Bool, [String]) in
            if s.status == .closing || s.status == .closed { return (false, []) }
            s.info = info
            s.maxPayload = info.maxPayload
            s.currentEndpoint = endpoint
            s.socketFD = socket.fd
            s.current = serverIndex
            s.pool[serverIndex].failures = 0
            let learned = Self.learn(urls: info.connectURLs, into: &s.pool)
            if s.status != .draining { s.status = .connected }
            s.prepareResend()
            return (true, learned)
        }
        guard accepted else {
            throw NATSError(.connectionClosed, "the client was closed while connecting")
        }
        if !discovered.isEmpty { emit(.discoveredServers(discovered)) }
        success = true
        return LiveConnection(socket: socket, parser: parser, endpoint: endpoint)
    }

    static func learn(urls: [String], into pool: inout [ServerEntry]) -> [String] {
        var added: [String] = []
        for url in urls {
            guard let address = try? NATSServerAddress(parsing: url) else { continue }
            if pool.contains(where: { $0.address.host == address.host && $0.address.port == address.port }) { continue }
            pool.append(ServerEntry(address: address, implicit: true))
            added.append(address.description)
        }
        return added
    }

    // MARK: Reconnect

    private func reconnectLoop() -> LiveConnection? {
        var cursor = state.withLock { $0.current }
        var lastError: NATSError?
        while true {
            let pick = state.withLock { s -> (index: Int, wait: Duration)? in
                if s.status == .closing || s.status == .closed || s.pool.isEmpty { return nil }
                cursor = (cursor + 1) % s.pool.count
                let entry = s.pool[cursor]
                var wait = Duration.zero
                if let last = entry.lastAttempt {
                    let since = now().duration(since: last)
                    if since < options.reconnectWait { wait = options.reconnectWait - since }
                }
                return (cursor, wait)
            }
            guard let pick else {
                finalize(error: lastError ?? state.withLock { $0.lastError })
                return nil
            }
            var wait = pick.wait
            if wait > .zero, options.reconnectJitter > .zero {
                wait += .nanoseconds(Int64.random(in: 0...max(0, options.reconnectJitter.nanosecondsClamped)))
            }
            if wait > .zero, !sleepInterruptibly(wait) { continue }
            do {
                return try establish(serverIndex: pick.index)
            } catch {
                lastError = error
                let exhausted = state.withLock { s -> Bool in
                    guard pick.index < s.pool.count else { return false }
                    s.pool[pick.index].failures += 1
                    if options.maxReconnectAttempts >= 0, s.pool[pick.index].failures > options.maxReconnectAttempts {
                        s.pool.remove(at: pick.index)
                        if cursor >= pick.index { cursor -= 1 }
                        if cursor < 0 { cursor = max(0, s.pool.count - 1) }
                    }
                    return s.pool.isEmpty
                }
                if exhausted {
                    finalize(error: NATSError(.connectionFailed,
                                              "gave up reconnecting after \(options.maxReconnectAttempts) attempts per server; last error: \(error.message)",
                                              underlying: error))
                    return nil
                }
            }
        }
    }

    /// Sleeps up to `duration`, waking early when the client is closing. Returns false when closing.
    private func sleepInterruptibly(_ duration: Duration) -> Bool {
        let deadline = now().advanced(by: duration)
        while true {
            if isClosing() { return false }
            let remaining = deadline.duration(since: now())
            if remaining <= .zero { return true }
            var pfd = pollfd(fd: wakeup.readFD, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, remaining.pollMilliseconds) > 0 { wakeup.drain() }
        }
    }

    // MARK: Steady state

    private func runConnected(_ live: inout LiveConnection) -> DisconnectReason {
        var current: [UInt8] = []
        var written = 0
        var nextKeepalive = now().advanced(by: options.pingInterval)
        var nextConfirm = now().advanced(by: Self.confirmDelay)
        var closingDeadline: MonotonicInstant?
        var router = InboundRouter()
        let socket = live.socket

        while true {
            // 1. Write whatever is pending.
            while true {
                if written >= current.count {
                    current = []
                    written = 0
                    let now = now().nanoseconds
                    var waiters = 0
                    let next = state.withLock { s -> ([UInt8], Int)? in
                        s.ioChunkBusy = false
                        // Never write while a publisher writes directly: bytes would interleave.
                        if s.directWriteBusy { return nil }
                        if let handoff = s.handoff {
                            s.handoff = nil
                            s.ioChunkBusy = true
                            return handoff
                        }
                        guard let chunk = s.takeChunk() else { return nil }
                        s.lastChunkNanos = now
                        s.ioChunkBusy = true
                        waiters = s.takeSpaceWaiters()
                        return (chunk, 0)
                    }
                    releaseSpaceWaiters(waiters)
                    guard let next else { break }
                    current = next.0
                    written = next.1
                }
                let result: TCPSocket.IOResult
                do {
                    result = try current.withBytes { (raw) throws(TransportError) -> TCPSocket.IOResult in
                        try socket.write(UnsafeRawBufferPointer(rebasing: raw[written...]))
                    }
                } catch {
                    return .lost(NATSError.from(transport: error))
                }
                guard case .bytes(let n) = result else { break }
                written += n
            }
            let writePending = written < current.count

            // 2. Before sleeping: clear the writer signal when there is nothing left to write,
            //    so the next publish wakes us; otherwise only peek at the socket (timeout 0).
            let (status, unconfirmed, moreToWrite) = state.withLock { s -> (ConnectionStatus, Int, Bool) in
                // While a publisher writes directly, it owns the signal and wakes us when done.
                let more = !s.directWriteBusy && (!s.outbound.isEmpty || s.handoff != nil)
                if !more && !writePending && !s.directWriteBusy { s.writerSignaled = false }
                return (s.status, s.unconfirmedBytes + s.outbound.count, more)
            }
            if status == .closing {
                if closingDeadline == nil {
                    closingDeadline = now().advanced(by: .seconds(2))
                    let needPing = state.withLock { s -> Bool in
                        if s.unconfirmedBytes > 0 && s.outstandingPings == 0 { s.appendPing(.confirm); return true }
                        return false
                    }
                    if needPing { continue }
                }
                if (unconfirmed == 0 && !writePending) || (closingDeadline.map { now() >= $0 } ?? false) {
                    return .closing
                }
            }

            // 3. Wait for input, writability, a wake-up or the keep-alive timer.
            let current0 = now()
            var timeout = min(nextKeepalive, nextConfirm).duration(since: current0)
            if let closingDeadline { timeout = min(timeout, closingDeadline.duration(since: current0)) }
            if moreToWrite && !writePending { timeout = .zero }
            var fds = (pollfd(fd: socket.fd, events: Int16(POLLIN) | (writePending ? Int16(POLLOUT) : 0), revents: 0),
                       pollfd(fd: wakeup.readFD, events: Int16(POLLIN), revents: 0))
            let ready = withUnsafeMutablePointer(to: &fds) { pointer in
                pointer.withMemoryRebound(to: pollfd.self, capacity: 2) { poll($0, 2, max(timeout.pollMilliseconds, 0)) }
            }
            if ready < 0 && errno != EINTR {
                return .lost(NATSError(.connectionFailed, "poll failed with errno \(errno)", server: live.endpoint))
            }
            if fds.1.revents != 0 { wakeup.drain() }

            // 4. Read and handle frames.
            if fds.0.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 {
                var reads = 0
                readLoop: while reads < 16 {
                    reads += 1
                    var blocked = false
                    do {
                        _ = try live.parser.readInto(minimum: 64 * 1024) { (buffer) throws(TransportError) -> Int in
                            switch try socket.read(into: buffer) {
                            case .bytes(let n): return n
                            case .wouldBlock: blocked = true; return 0
                            }
                        }
                        if blocked { break readLoop }
                    } catch {
                        // Handle frames that arrived before the close first.
                        _ = drainFrames(&live, router: &router)
                        return .lost(NATSError.from(transport: error))
                    }
                    if let reason = drainFrames(&live, router: &router) { return reason }
                }
            }

            // 5. Confirm small unconfirmed tails (a PING once they waited `confirmDelay`), keep-alive.
            let current1 = now()
            if current1 >= nextConfirm {
                nextConfirm = current1.advanced(by: Self.confirmDelay)
                let ping = state.withLock { s -> Bool in
                    guard s.unconfirmedBytes > 0 || !s.outbound.isEmpty, s.lastPingEnd < s.appended, s.outstandingPings == 0 else { return false }
                    s.appendPing(.confirm)
                    return true
                }
                if ping { continue }
            }
            if current1 >= nextKeepalive {
                nextKeepalive = current1.advanced(by: options.pingInterval)
                let stale = state.withLock { s -> Bool in
                    if s.outstandingKeepalives >= options.maxPingsOutstanding { return true }
                    s.outstandingKeepalives += 1
                    s.appendPing(.keepalive)
                    return false
                }
                if stale {
                    return .lost(NATSError(.staleConnection,
                                           "no PONG for \(options.maxPingsOutstanding) keep-alive PINGs from \(live.endpoint); the connection is stale",
                                           server: live.endpoint))
                }
            }
        }
    }

    /// Parses and routes every complete frame in the parser. Returns a reason to disconnect, if any.
    private func drainFrames(_ live: inout LiveConnection, router: inout InboundRouter) -> DisconnectReason? {
        while true {
            let before = live.parser.bufferedCount
            if let reason = router.route(parser: &live.parser, core: self, endpoint: live.endpoint) { return reason }
            // Stop when nothing was consumed (a partial frame remains) or the buffer is empty.
            if live.parser.bufferedCount == 0 || live.parser.bufferedCount == before { return nil }
        }
    }

    // MARK: Finalize

    /// Closes for good: fails every waiter, ends subscriptions, reports unconfirmed publishes.
    func finalize(error: NATSError?) {
        let taken = state.withLock { s -> FinalizeWork? in
            if s.status == .closed { return nil }
            let lost = s.unconfirmedPublishCount()
            s.lostMessages += lost
            s.status = .closed
            var work = FinalizeWork(lost: lost)
            work.requests = Array(s.pendingRequests.values)
            work.flushes = Array(s.flushWaiters.values)
            work.closers = s.closeWaiters
            work.subs = s.subs.values.compactMap(\.subscription)
            s.pendingRequests = [:]
            s.flushWaiters = [:]
            s.closeWaiters = []
            s.subs = [:]
            s.outbound = []
            s.unconfirmed = []
            s.unconfirmedBytes = 0
            s.spareBuffers = []
            work.spaceWaiters = s.takeSpaceWaiters()
            return work
        }
        guard let taken else { return }
        releaseSpaceWaiters(taken.spaceWaiters)
        let lostError = taken.lost > 0
            ? NATSError(.messagesLost, "\(taken.lost) published messages were accepted but never confirmed by a server before the connection closed; they may not have been delivered")
            : nil
        let closedError = NATSError(.connectionClosed, "the connection is closed" + (error.map { ": \($0.message)" } ?? ""), underlying: error)
        for request in taken.requests { request.continuation.resume(returning: .failure(closedError)) }
        for flush in taken.flushes { flush.resume(returning: .failure(lostError ?? closedError)) }
        for sub in taken.subs { sub.finish(error: error) }
        if let lostError { emit(.error(lostError)) }
        emit(.closed(error: error))
        eventContinuation.finish()
        for closer in taken.closers { closer.resume() }
    }
}

struct FinalizeWork {
    var lost: Int
    var requests: [PendingRequest] = []
    var flushes: [CheckedContinuation<Result<Void, NATSError>, Never>] = []
    var closers: [CheckedContinuation<Void, Never>] = []
    var subs: [NATSSubscription] = []
    var spaceWaiters = 0
}
