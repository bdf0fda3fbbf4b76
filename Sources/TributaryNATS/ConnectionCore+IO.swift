#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TributaryNATSProtocol
import TributaryTLS
import TributaryTransport
import TributaryWire

extension ConnectionCore {
    /// Starts the I/O thread; `initial` is resumed once the first connection is ready or has failed.
    func start(initial: CheckedContinuation<Result<Void, NATSError>, Never>) {
        let actions = state.withLock { s in s.machine.start(waiter: .connect(initial), now: clock.now()) }
        let started = IOThread.start { [self] in
            var loop = IOLoop(core: self)
            loop.run(initial: actions)
        }
        if !started {
            let error = NATSError(.connectionFailed, "could not start the connection's I/O thread (errno \(errno)); the process may be out of threads or memory")
            let failed = state.withLock { s in s.machine.abort(error: error) }
            perform(failed)
        }
    }
}

/// The I/O thread: opens streams when the machine says so, writes the outbound stream, reads
/// and parses frames, fires the machine's timers. Its only waits are `poll` on the stream and
/// the wake-up pipe.
struct IOLoop {
    let core: ConnectionCore
    var stream: (any TransportStream)?
    /// A stream being retired while a publisher still writes to it directly.
    var retiring: (any TransportStream)?
    var parser: NATSParser
    var current: [UInt8] = []
    var written = 0
    var pendingConnect: (address: NATSServerAddress, timeout: Duration)?
    var stopping = false
    var router = InboundRouter()

    init(core: ConnectionCore) {
        self.core = core
        parser = NATSParser(maxControlLine: core.options.maxControlLine)
    }

    mutating func run(initial: [ConnectionMachine.Action]) {
        handle(initial)
        while !stopping {
            // 1. Open a stream when asked to.
            if let target = pendingConnect {
                pendingConnect = nil
                openStream(target.address, timeout: target.timeout)
                continue
            }
            // 2. Requests from other threads: close the stream, stop.
            let (closeRequested, stop, directBusy, credentials) = core.state.withLock { s in
                let close = s.streamCloseRequested
                s.streamCloseRequested = false
                let outcome = s.credentialOutcome
                s.credentialOutcome = nil
                return (close, s.stopRequested, s.directWriteBusy, outcome)
            }
            if let credentials { credentialsArrived(credentials.result, attempt: credentials.attempt) }
            if closeRequested { dropStream() }
            if let old = retiring, !directBusy {
                old.close()
                retiring = nil
            }
            if stop {
                stopping = true
                break
            }
            // 3. Write what is pending.
            var writeFailed: NATSError?
            if let stream { writeFailed = writePending(stream) }
            if let writeFailed {
                lost(writeFailed)
                continue
            }
            let writePending = written < current.count

            // 4. Sleep until input, writability, a wake-up or the machine's next deadline.
            let now0 = core.clock.now()
            let (deadline, moreToWrite) = core.state.withLock { s -> (MonotonicInstant?, Bool) in
                // While a publisher writes directly, it owns the signal and wakes us when done.
                let more = !s.directWriteBusy && (s.machine.hasPendingOutput || s.handoff != nil)
                if !more && !writePending && !s.directWriteBusy { s.writerSignaled = false }
                let deadline = s.machine.nextDeadline
                s.sleepingUntil = deadline ?? now0.advanced(by: .seconds(3600))
                return (deadline, more)
            }
            var timeout: Int32 = deadline.map { $0.duration(since: now0).pollMilliseconds } ?? -1
            if let deadline, deadline <= now0 { timeout = 0 }
            if moreToWrite && !writePending { timeout = 0 }
            // TLS may hold decrypted bytes poll cannot see, or need writability to read.
            let buffered = stream?.hasBufferedInput ?? false
            let readNeedsOut = stream?.readWantsWritable ?? false
            if buffered { timeout = 0 }
            let fd = stream?.descriptor ?? -1
            var fds = (pollfd(fd: fd, events: Int16(POLLIN) | (writePending || readNeedsOut ? Int16(POLLOUT) : 0), revents: 0),
                       pollfd(fd: core.wakeup.readFD, events: Int16(POLLIN), revents: 0))
            let ready = withUnsafeMutablePointer(to: &fds) { pointer in
                pointer.withMemoryRebound(to: pollfd.self, capacity: 2) { poll($0, 2, timeout) }
            }
            if ready < 0 && errno != EINTR {
                lost(NATSError(.connectionFailed, "poll failed with errno \(errno)", server: stream?.peerAddress))
                continue
            }
            if fds.1.revents != 0 { core.wakeup.drain() }

            // 5. Read and handle frames.
            if let stream, buffered || fds.0.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0
                || (readNeedsOut && fds.0.revents & Int16(POLLOUT) != 0) {
                readFrames(stream)
            }

            // 6. Timers.
            let now1 = core.clock.now()
            if let deadline, now1 >= deadline {
                let actions = core.state.withLock { s in s.machine.timerFired(now: now1) }
                handle(actions)
            }
        }
        dropStream()
        if let retiring { retiring.close() }
        core.finishEvents()
    }

    /// Performs actions on the I/O thread: stream actions here, the rest through the core.
    mutating func handle(_ actions: [ConnectionMachine.Action]) {
        var others: [ConnectionMachine.Action] = []
        for action in actions {
            switch action {
            case .connect(let address, let timeout):
                pendingConnect = (address, timeout)
            case .writeHandshake(let bytes):
                guard let stream else { continue }
                do {
                    try bytes.withBytes { (raw) throws(TransportError) in try stream.writeAll(raw, timeout: core.options.connectTimeout) }
                } catch {
                    core.perform(others)
                    others = []
                    lost(NATSError.from(transport: error))
                }
            case .startTLS(let serverName):
                startTLS(serverName: serverName)
            case .authenticate(let challenge):
                core.perform(others)
                others = []
                authenticate(challenge)
            case .closeStream:
                dropStream()
            case .stop:
                stopping = true
            default:
                others.append(action)
            }
        }
        core.perform(others)
    }

    /// Reports a failed stream to the machine.
    mutating func lost(_ error: NATSError) {
        dropStream()
        let actions = core.state.withLock { s in s.machine.connectionLost(error, now: core.clock.now()) }
        handle(actions)
    }

    mutating func openStream(_ address: NATSServerAddress, timeout: Duration) {
        do throws(TransportError) {
            var opened = try core.options.streamFactory(address.host, address.port, timeout)
            let tlsFirst = core.options.tlsHandshakeFirst
            if tlsFirst {
                opened = try TLSStream.upgrade(opened, configuration: core.options.tls ?? TLSConfiguration(),
                                               serverName: address.tlsName ?? address.host, timeout: timeout)
            }
            stream = opened
            parser = NATSParser(maxControlLine: core.options.maxControlLine)
            current = []
            written = 0
            let actions = core.state.withLock { s in s.machine.streamOpened(now: core.clock.now(), usesTLS: tlsFirst) }
            handle(actions)
        } catch {
            let actions = core.state.withLock { s in s.machine.connectFailed(NATSError.from(transport: error), now: core.clock.now()) }
            handle(actions)
        }
    }

    /// Runs the TLS handshake on the open stream (after the server's INFO) and tells the machine.
    /// Publishers never write to the stream directly before the handshake completes (they do
    /// so only while connected, and never to a TLS stream).
    mutating func startTLS(serverName: String) {
        guard let plain = stream else { return }
        do throws(TransportError) {
            let encrypted = try TLSStream.upgrade(plain, configuration: core.options.tls ?? TLSConfiguration(),
                                                  serverName: serverName, timeout: core.options.connectTimeout)
            stream = encrypted
            let actions = core.state.withLock { s in s.machine.tlsEstablished(now: core.clock.now()) }
            handle(actions)
        } catch {
            // `upgrade` closed the plain stream; forget it without closing it twice.
            stream = nil
            let actions = core.state.withLock { s in s.machine.connectionLost(NATSError.from(transport: error), now: core.clock.now()) }
            handle(actions)
        }
    }

    /// Answers the machine's credential challenge. Files are read and the nonce signed right here
    /// (blocking reads belong on this thread); signing callbacks are user code and run as a task,
    /// whose result comes back through `credentialOutcome` and a wake-up.
    mutating func authenticate(_ challenge: NATSAuthenticationChallenge) {
        guard let credentials = core.options.credentials else {
            credentialsArrived(.failure(NATSError(.invalidCredentials, "the server asked for credentials but none are configured")),
                               attempt: challenge.attempt)
            return
        }
        guard credentials.usesCallbacks else {
            credentialsArrived(credentials.respondWithoutCallbacks(to: challenge), attempt: challenge.attempt)
            return
        }
        let core = self.core
        Task.detached {
            let result = await credentials.respondWithCallbacks(to: challenge)
            core.state.withLock { $0.credentialOutcome = (challenge.attempt, result) }
            core.wakeup.wake()
        }
    }

    /// Hands loaded credentials (or why they could not be loaded) to the machine.
    mutating func credentialsArrived(_ result: Result<NATSAuthenticationResponse, NATSError>, attempt: UInt64) {
        let now = core.clock.now()
        let actions = core.state.withLock { s in
            switch result {
            case .success(let response): return s.machine.credentialsProvided(response, attempt: attempt, now: now)
            case .failure(let error): return s.machine.credentialsFailed(error, attempt: attempt, now: now)
            }
        }
        handle(actions)
    }

    /// Closes the current stream once no publisher can be writing to it directly.
    mutating func dropStream() {
        guard let old = stream else { return }
        stream = nil
        current = []
        written = 0
        let busy = core.state.withLock { s -> Bool in
            s.stream = nil
            s.handoff = nil
            s.ioChunkBusy = false
            s.writerSignaled = false
            return s.directWriteBusy
        }
        if busy {
            // The direct writer fails on a shut-down socket and wakes us; then it is closed.
            old.shutdown()
            retiring?.close()
            retiring = old
        } else {
            old.close()
        }
    }

    /// Writes chunks until the socket would block. Returns an error when the stream failed.
    mutating func writePending(_ stream: any TransportStream) -> NATSError? {
        while true {
            if written >= current.count {
                current = []
                written = 0
                var released: [Waiter] = []
                let nowNanos = core.clock.now().nanoseconds
                let next = core.state.withLock { s -> ([UInt8], Int)? in
                    s.ioChunkBusy = false
                    // Never write while a publisher writes directly: bytes would interleave.
                    if s.directWriteBusy { return nil }
                    if let handoff = s.handoff {
                        s.handoff = nil
                        s.ioChunkBusy = true
                        return handoff
                    }
                    guard let chunk = s.machine.takeChunk(released: &released) else { return nil }
                    s.lastChunkNanos = nowNanos
                    s.ioChunkBusy = true
                    return (chunk, 0)
                }
                for waiter in released { waiter.succeed() }
                guard let next else { return nil }
                current = next.0
                written = next.1
            }
            let result: TCPSocket.IOResult
            do {
                result = try current.withBytes { (raw) throws(TransportError) -> TCPSocket.IOResult in
                    try stream.write(UnsafeRawBufferPointer(rebasing: raw[written...]))
                }
            } catch {
                return NATSError.from(transport: error)
            }
            guard case .bytes(let n) = result else { return nil }
            written += n
        }
    }

    /// Reads what the socket has (bounded per wake-up) and routes every complete frame.
    mutating func readFrames(_ stream: any TransportStream) {
        var reads = 0
        // Stop when the stream changed under us (a TLS upgrade after INFO): the old one must
        // not read the new one's bytes.
        while reads < 16, let current = self.stream, current === stream {
            reads += 1
            var blocked = false
            var space = 0
            do {
                var fills = 0
                repeat {
                    // A TLS stream hands over one record (at most 16 KiB) per read: while it has
                    // more decrypted or read-ahead input, fill the buffer before routing, so the
                    // subscriptions are fed (and woken) once per buffer, not once per record.
                    fills += 1
                    _ = try parser.readInto(minimum: 64 * 1024) { (buffer) throws(TransportError) -> Int in
                        switch try stream.read(into: buffer) {
                        case .bytes(let n): space = buffer.count - n; return n
                        case .wouldBlock: blocked = true; space = 0; return 0
                        }
                    }
                } while !blocked && fills < 8 && space >= 16 * 1024 && stream.hasBufferedInput
            } catch {
                // Handle frames that arrived before the close first.
                routeFrames(stream)
                if self.stream != nil { lost(NATSError.from(transport: error)) }
                return
            }
            routeFrames(stream)
            if blocked { return }
            // A plain read that left room in the buffer took all the socket held: return to
            // `poll` (level-triggered, so later bytes still wake it) instead of one more `read`
            // that would only say "would block", a system call saved per wake-up at low rates.
            if space > 0 && !stream.hasBufferedInput { return }
        }
    }

    mutating func routeFrames(_ stream: any TransportStream) {
        while let current = self.stream, current === stream {
            let before = parser.bufferedCount
            let actions = router.route(parser: &parser, core: core, stream: stream)
            handle(actions)
            // Stop when nothing was consumed (a partial frame remains) or the buffer is empty.
            if parser.bufferedCount == 0 || parser.bufferedCount == before { return }
        }
    }
}
