#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation
import Synchronization
import TributaryNATSProtocol
import TributaryTransport
import TributaryWire

/// The connection engine: one lock around one state, one I/O thread per client.
///
/// Lock order: `ConnectionCore.state` may be taken while holding nothing; a subscription's own
/// lock is only ever taken after `state` has been released (never nested).
final class ConnectionCore: Sendable {
    let options: NATSOptions
    let wakeup: WakeupPipe
    let state: Mutex<CoreState>
    let eventStream: AsyncStream<NATSEvent>
    let eventContinuation: AsyncStream<NATSEvent>.Continuation
    let startInstant = ContinuousClock.now
    /// Signalled when outbound space is released; publishers blocked on a full buffer wait on it.
    let spaceAvailable = DispatchSemaphore(value: 0)

    /// Outbound data is sent in chunks; a PING is added after this many unconfirmed bytes so
    /// that the server's PONG confirms them and their retained copies can be released.
    static let confirmInterval = 256 * 1024
    /// While connected, publishers wait when this many bytes are not yet taken by the writer.
    static let connectedWriteAhead = 1 << 20
    /// Smaller amounts are confirmed by a PING once they have waited this long.
    static let confirmDelay: Duration = .milliseconds(200)

    init(options: NATSOptions, servers: [NATSServerAddress]) throws(NATSError) {
        self.options = options
        do {
            wakeup = try WakeupPipe()
        } catch {
            throw NATSError.from(transport: error)
        }
        var pool = servers.map { ServerEntry(address: $0, implicit: false) }
        if !options.noRandomize { pool.shuffle() }
        state = Mutex(CoreState(pool: pool, inboxPrefix: options.inboxPrefix + "." + NUID.next()))
        (eventStream, eventContinuation) = AsyncStream.makeStream(of: NATSEvent.self, bufferingPolicy: .bufferingNewest(1024))
    }

    func now() -> MonotonicInstant {
        let elapsed = ContinuousClock.now - startInstant
        return MonotonicInstant(nanoseconds: UInt64(max(0, elapsed.nanosecondsClamped)))
    }

    /// Wakes publishers waiting for outbound space (after the lock is released).
    func releaseSpaceWaiters(_ count: Int) {
        for _ in 0..<count { spaceAvailable.signal() }
    }

    func emit(_ event: NATSEvent) {
        eventContinuation.yield(event)
    }

    // MARK: - Publishing

    /// Appends a frame produced by `encode` under the lock, honouring the outbound bound.
    @inline(__always)
    func appendFrame(size: Int, payloadSize: Int, subject: String,
                     _ encode: (inout [UInt8]) -> Void) throws(NATSError) {
        var deadline: MonotonicInstant?
        while true {
            let outcome = state.withLock { s -> AppendOutcome in
                switch s.status {
                case .closed, .closing: return .closed
                case .connected, .reconnecting, .connecting, .draining: break
                }
                if subject != s.lastValidSubject {
                    if let problem = NATSValidation.subjectProblem(subject) { return .invalidSubject(problem) }
                    s.lastValidSubject = subject
                }
                if payloadSize > s.maxPayload { return .tooLarge(s.maxPayload) }
                if s.outbound.count + s.unconfirmedBytes + size > options.reconnectBufferSize,
                   s.outbound.count + s.unconfirmedBytes > 0 {
                    guard s.status == .connected || s.status == .draining else { return .reconnectBufferFull }
                    s.spaceWaiters += 1
                    return .full
                }
                // Connected: a publisher more than `connectedWriteAhead` bytes ahead of the socket
                // waits for the I/O thread, which keeps memory small without limiting batching.
                if s.status == .connected, s.outbound.count > Self.connectedWriteAhead {
                    s.spaceWaiters += 1
                    return .full
                }
                let before = s.outbound.count
                encode(&s.outbound)
                s.appended += s.outbound.count - before
                switch writerStep(&s) {
                case .none: return .appended
                case .wake: return .wake
                case .direct(let chunk, let fd): return .direct(chunk, fd)
                }
            }
            switch outcome {
            case .appended: return
            case .wake:
                wakeup.wake()
                return
            case .direct(let chunk, let fd):
                writeDirect(chunk, fd: fd)
                return
            case .invalidSubject(let problem):
                throw .invalidName("subject", subject, problem)
            case .closed:
                throw NATSError(.connectionClosed, "cannot publish to '\(subject)': the connection is closed; create a new client", subject: subject)
            case .tooLarge(let max):
                throw NATSError(.maxPayloadExceeded,
                                "message for '\(subject)' is \(payloadSize) bytes (payload plus headers), over the server's max_payload of \(max); send smaller messages or raise max_payload on the server",
                                subject: subject)
            case .reconnectBufferFull:
                throw NATSError(.reconnectBufferExceeded,
                                "cannot buffer the message for '\(subject)' while disconnected: the reconnect buffer of \(options.reconnectBufferSize) bytes is full; retry after reconnecting or raise reconnectBufferSize",
                                subject: subject)
            case .full:
                let current = now()
                if deadline == nil { deadline = current.advanced(by: options.publishWaitTimeout) }
                if let deadline, current >= deadline {
                    throw NATSError(.outboundBufferFull,
                                    "outbound buffer of \(options.reconnectBufferSize) bytes stayed full for \(options.publishWaitTimeout) while publishing to '\(subject)'; the server or network is slower than the publisher",
                                    subject: subject)
                }
                // Wait for the I/O thread to release confirmed bytes (signalled on PONG, loss or close).
                wakeup.wake()
                _ = spaceAvailable.wait(timeout: .now() + .milliseconds(50))
            }
        }
    }

    enum WriterStep { case none, wake, direct([UInt8], Int32) }

    /// After bytes were appended (under the lock): nothing to do when the writer is already
    /// signalled; on an idle connection (no write for a while, nobody writing) take the chunk and
    /// let the caller write it directly, saving the hand-off to the I/O thread; else wake the
    /// I/O thread, which batches under load.
    func writerStep(_ s: inout CoreState) -> WriterStep {
        guard s.signalWriterIfNeeded() else { return .none }
        if s.status == .connected, s.socketFD >= 0, !s.ioChunkBusy, !s.directWriteBusy, s.handoff == nil {
            let nowNanos = now().nanoseconds
            if nowNanos &- s.lastChunkNanos > Self.directWriteIdleNanos, let chunk = s.takeChunk() {
                s.lastChunkNanos = nowNanos
                s.directWriteBusy = true
                return .direct(chunk, s.socketFD)
            }
        }
        return .wake
    }

    /// Performs a `WriterStep` outside the lock.
    func perform(_ step: WriterStep) {
        switch step {
        case .none: break
        case .wake: wakeup.wake()
        case .direct(let chunk, let fd): writeDirect(chunk, fd: fd)
        }
    }

    enum AppendOutcome { case appended, wake, direct([UInt8], Int32), invalidSubject(NATSNameProblem), closed, tooLarge(Int), reconnectBufferFull, full }

    /// A publish goes straight to the socket only when nothing was written for this long.
    static let directWriteIdleNanos: UInt64 = 50_000

    /// Writes a chunk from the publishing thread (non-blocking). Whatever does not fit is handed
    /// to the I/O thread; errors are left for the I/O thread to find (the chunk is already kept
    /// as unconfirmed, so a lost connection re-sends it).
    func writeDirect(_ chunk: [UInt8], fd: Int32) {
        var offset = 0
        chunk.withUnsafeBytes { raw in
            while offset < raw.count {
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n > 0 { offset += n; continue }
                if n < 0 && errno == EINTR { continue }
                break
            }
        }
        let wake = state.withLock { s -> Bool in
            s.directWriteBusy = false
            if offset < chunk.count {
                s.handoff = (chunk, offset)
                s.writerSignaled = true
                return true
            }
            if s.outbound.isEmpty {
                s.writerSignaled = false
                return false
            }
            s.writerSignaled = true
            return true
        }
        if wake { wakeup.wake() }
    }

    // MARK: - Subscriptions

    func subscribe(subject: String, queue: String?, maxPendingMessages: Int, maxPendingBytes: Int,
                   handler: (@Sendable (NATSMessage) -> Void)? = nil) throws(NATSError) -> NATSSubscription {
        let result = state.withLock { s -> Result<(NATSSubscription, Bool), NATSError> in
            if s.status == .closed || s.status == .closing || s.status == .draining {
                return .failure(NATSError(.connectionClosed, "cannot subscribe to '\(subject)': the connection is closed or draining", subject: subject))
            }
            s.nextSID += 1
            let sub = NATSSubscription(sid: s.nextSID, subject: subject, queue: queue,
                                       maxPendingMessages: maxPendingMessages, maxPendingBytes: maxPendingBytes, core: self,
                                       handler: handler)
            s.subs[sub.sid] = SubRecord(subscription: sub, subject: subject, queue: queue)
            let before = s.outbound.count
            NATSEncoder.appendSubscribe(subject: subject, queue: queue, sid: sub.sid, into: &s.outbound)
            s.appended += s.outbound.count - before
            return .success((sub, s.signalWriterIfNeeded()))
        }
        let (sub, wake) = try result.get()
        if wake { wakeup.wake() }
        return sub
    }

    func unsubscribe(_ sub: NATSSubscription, after max: Int?) {
        let (wake, finish) = state.withLock { s -> (Bool, Bool) in
            guard let record = s.subs[sub.sid], s.status != .closed else { return (false, false) }
            let before = s.outbound.count
            if let max {
                if record.delivered >= max {
                    s.subs[sub.sid] = nil
                    NATSEncoder.appendUnsubscribe(sid: sub.sid, max: nil, into: &s.outbound)
                    s.appended += s.outbound.count - before
                    return (s.signalWriterIfNeeded(), true)
                }
                record.max = max
                NATSEncoder.appendUnsubscribe(sid: sub.sid, max: max, into: &s.outbound)
                s.appended += s.outbound.count - before
                return (s.signalWriterIfNeeded(), false)
            }
            s.subs[sub.sid] = nil
            NATSEncoder.appendUnsubscribe(sid: sub.sid, max: nil, into: &s.outbound)
            s.appended += s.outbound.count - before
            return (s.signalWriterIfNeeded(), true)
        }
        if wake { wakeup.wake() }
        if finish { sub.finish(error: nil) }
    }

    func drainSubscription(_ sub: NATSSubscription, timeout: Duration) async throws(NATSError) {
        let wake = state.withLock { s -> Bool in
            guard s.subs[sub.sid] != nil else { return false }
            let before = s.outbound.count
            NATSEncoder.appendUnsubscribe(sid: sub.sid, max: nil, into: &s.outbound)
            s.appended += s.outbound.count - before
            return s.signalWriterIfNeeded()
        }
        if wake { wakeup.wake() }
        // Once the PONG after our UNSUB arrives, every message the server sent for this sid has arrived.
        do {
            try await flush(timeout: timeout)
        } catch {
            state.withLock { s in _ = s.subs.removeValue(forKey: sub.sid) }
            sub.finish(error: error)
            throw error
        }
        state.withLock { s in _ = s.subs.removeValue(forKey: sub.sid) }
        sub.finish(error: nil)
        let deadline = now().advanced(by: timeout)
        while !sub.isFinishedAndEmpty {
            if now() >= deadline {
                throw NATSError(.timeout, "drain of '\(sub.subject)' timed out after \(timeout) with \(sub.pendingCount) messages still queued; consume faster or raise drainTimeout", subject: sub.subject)
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    // MARK: - Flush and requests

    func flush(timeout: Duration) async throws(NATSError) {
        let id = state.withLock { s -> UInt64 in s.nextWaiterID += 1; return s.nextWaiterID }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, NATSError>, Never>) in
            let outcome = state.withLock { s -> (Bool, NATSError?) in
                if s.status == .closed || s.status == .closing {
                    return (false, NATSError(.connectionClosed, "flush failed: the connection is closed" + s.lostSuffix()))
                }
                s.flushWaiters[id] = continuation
                s.appendPing(.flush(id))
                return (s.signalWriterIfNeeded(), nil)
            }
            if let error = outcome.1 {
                continuation.resume(returning: .failure(error))
                return
            }
            if outcome.0 { wakeup.wake() }
            scheduleTimeout(after: timeout) { [self] in
                let waiter = state.withLock { s in s.flushWaiters.removeValue(forKey: id) }
                waiter?.resume(returning: .failure(NATSError(.timeout, "flush did not complete within \(timeout): no PONG from the server; check the connection or raise flushTimeout")))
            }
        }
        try result.get()
    }

    func scheduleTimeout(after duration: Duration, _ body: @escaping @Sendable () -> Void) {
        let nanos = max(0, duration.nanosecondsClamped)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: nanos)), execute: body)
    }

    func request(subject: String, headerBlock: [UInt8]?, payload payloadCopy: [UInt8], timeout: Duration) async throws(NATSError) -> NATSMessage {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<NATSMessage, NATSError>, Never>) in
            let outcome = state.withLock { s -> Result<(String, WriterStep), NATSError> in
                switch s.status {
                case .closed, .closing, .draining:
                    return .failure(NATSError(.connectionClosed, "cannot send request to '\(subject)': the connection is closed", subject: subject))
                default: break
                }
                let total = payloadCopy.count + (headerBlock?.count ?? 0)
                if total > s.maxPayload {
                    return .failure(NATSError(.maxPayloadExceeded, "request for '\(subject)' is \(total) bytes, over the server's max_payload of \(s.maxPayload)", subject: subject))
                }
                if s.outbound.count + s.unconfirmedBytes + total > options.reconnectBufferSize, s.outbound.count + s.unconfirmedBytes > 0 {
                    return .failure(NATSError(.reconnectBufferExceeded, "outbound buffer full; request to '\(subject)' not sent", subject: subject))
                }
                if s.muxSID == nil {
                    s.nextSID += 1
                    let sid = s.nextSID
                    s.muxSID = sid
                    let muxSubject = s.inboxPrefix + ".*"
                    s.subs[sid] = SubRecord(subscription: nil, subject: muxSubject, queue: nil)
                    let before = s.outbound.count
                    NATSEncoder.appendSubscribe(subject: muxSubject, queue: nil, sid: sid, into: &s.outbound)
                    s.appended += s.outbound.count - before
                }
                s.nextRequestToken += 1
                let token = String(s.nextRequestToken, radix: 36)
                let reply = s.inboxPrefix + "." + token
                s.pendingRequests[token] = PendingRequest(subject: subject, continuation: continuation)
                let before = s.outbound.count
                payloadCopy.withUnsafeBytes { raw in
                    if let headerBlock {
                        NATSEncoder.appendHeaderPublish(subject: subject, replyTo: reply, headerBlock: headerBlock, payload: raw, into: &s.outbound)
                    } else {
                        NATSEncoder.appendPublish(subject: subject, replyTo: reply, payload: raw, into: &s.outbound)
                    }
                }
                s.appended += s.outbound.count - before
                return .success((token, writerStep(&s)))
            }
            switch outcome {
            case .failure(let error):
                continuation.resume(returning: .failure(error))
            case .success(let (token, step)):
                perform(step)
                scheduleTimeout(after: timeout) { [self] in
                    let pending = state.withLock { s in s.pendingRequests.removeValue(forKey: token) }
                    pending?.continuation.resume(returning: .failure(
                        NATSError(.timeout, "request to '\(subject)' got no reply within \(timeout); check that a responder is running or raise the timeout", subject: subject)))
                }
            }
        }
        return try result.get()
    }

    // MARK: - Close and drain

    func close() async {
        let alreadyClosed = state.withLock { s -> Bool in
            if s.status == .closed { return true }
            if s.status != .closing { s.status = .closing }
            return false
        }
        if !alreadyClosed { wakeup.wake() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.status == .closed { return true }
                s.closeWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    func drain(timeout: Duration) async throws(NATSError) {
        let subs = state.withLock { s -> [NATSSubscription] in
            guard s.status == .connected || s.status == .reconnecting else { return [] }
            s.status = .draining
            return s.subs.values.compactMap(\.subscription)
        }
        var firstError: NATSError?
        // UNSUB everything, then one round trip: after its PONG no more messages are in flight.
        let wake = state.withLock { s -> Bool in
            for sub in subs {
                let before = s.outbound.count
                NATSEncoder.appendUnsubscribe(sid: sub.sid, max: nil, into: &s.outbound)
                s.appended += s.outbound.count - before
            }
            return s.signalWriterIfNeeded(allowDraining: true)
        }
        if wake { wakeup.wake() }
        do { try await flush(timeout: timeout) } catch { firstError = error }
        state.withLock { s in for sub in subs { s.subs[sub.sid] = nil } }
        for sub in subs { sub.finish(error: nil) }
        let deadline = now().advanced(by: timeout)
        while subs.contains(where: { !$0.isFinishedAndEmpty }) {
            if now() >= deadline {
                let left = subs.reduce(0) { $0 + $1.pendingCount }
                firstError = firstError ?? NATSError(.timeout, "drain timed out after \(timeout) with \(left) messages not consumed; consume faster or raise drainTimeout")
                break
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        // Publishes made before drain: confirm them with a final round trip.
        if firstError == nil {
            do { try await flush(timeout: timeout) } catch { firstError = error }
        }
        await close()
        if let firstError { throw firstError }
    }
}

// MARK: - State

enum ConnectionStatus: Equatable { case connecting, connected, reconnecting, draining, closing, closed }

struct ServerEntry {
    var address: NATSServerAddress
    var implicit: Bool
    var failures = 0
    var lastAttempt: MonotonicInstant?
}

/// A live subscription's wire state. A class so the inbound path reads and updates it through
/// one reference; only ever touched under `ConnectionCore.state`'s lock.
final class SubRecord {
    /// nil for the request multiplexer's inbox subscription.
    let subscription: NATSSubscription?
    let subject: String
    let queue: String?
    var max: Int?
    var delivered = 0

    init(subscription: NATSSubscription?, subject: String, queue: String?) {
        self.subscription = subscription
        self.subject = subject
        self.queue = queue
    }
}

struct PendingRequest {
    var subject: String
    var continuation: CheckedContinuation<Result<NATSMessage, NATSError>, Never>
}

enum PingKind { case flush(UInt64), confirm, keepalive }

struct PendingPing {
    /// Stream offset just past this PING.
    var end: Int
    var kind: PingKind
}

struct OutboundChunk {
    var bytes: [UInt8]
    var start: Int
    var end: Int { start + bytes.count }
}

struct CoreState {
    var status: ConnectionStatus = .connecting
    var pool: [ServerEntry]
    var current: Int = 0
    var info: NATSServerInfo?
    var maxPayload = NATSProtocolConstants.defaultMaxPayload
    var currentEndpoint = ""

    // Outbound stream: offsets count every byte ever appended.
    var outbound: [UInt8] = []
    var spareBuffers: [[UInt8]] = []
    var unconfirmed: [OutboundChunk] = []
    var unconfirmedBytes = 0
    var appended = 0
    var confirmed = 0
    var lastPingEnd = 0
    var pings: [PendingPing] = []
    var pingHead = 0
    var writerSignaled = false
    var outstandingKeepalives = 0
    /// Publishers blocked on a full outbound buffer.
    var spaceWaiters = 0
    /// The last subject that passed validation: publishing a stream to one subject checks it once.
    var lastValidSubject = ""
    /// The connected socket's descriptor, for direct writes by publishers (-1 when none).
    var socketFD: Int32 = -1
    /// A publisher is writing a chunk to the socket itself.
    var directWriteBusy = false
    /// The I/O thread holds a chunk it has not finished writing.
    var ioChunkBusy = false
    /// Bytes a direct writer could not finish (socket full); the I/O thread writes them first.
    var handoff: (bytes: [UInt8], offset: Int)?
    /// When a chunk was last taken for writing (nanoseconds since the core started).
    var lastChunkNanos: UInt64 = 0

    var subs: [UInt64: SubRecord] = [:]
    var nextSID: UInt64 = 0
    var muxSID: UInt64?
    let inboxPrefix: String
    var nextRequestToken: UInt64 = 0
    var pendingRequests: [String: PendingRequest] = [:]
    var flushWaiters: [UInt64: CheckedContinuation<Result<Void, NATSError>, Never>] = [:]
    var nextWaiterID: UInt64 = 0
    var closeWaiters: [CheckedContinuation<Void, Never>] = []
    var lostMessages = 0
    var lastError: NATSError?

    init(pool: [ServerEntry], inboxPrefix: String) {
        self.pool = pool
        self.inboxPrefix = inboxPrefix
        outbound.reserveCapacity(64 * 1024)
    }

    var outstandingPings: Int { pings.count - pingHead }

    /// Marks the writer as signalled; returns true when the caller must wake the I/O thread.
    mutating func signalWriterIfNeeded(allowDraining: Bool = true) -> Bool {
        guard status == .connected || (allowDraining && status == .draining), !writerSignaled else { return false }
        writerSignaled = true
        return true
    }

    mutating func appendPing(_ kind: PingKind) {
        NATSEncoder.appendPing(into: &outbound)
        appended += 6
        lastPingEnd = appended
        pings.append(PendingPing(end: appended, kind: kind))
    }

    /// Takes the outbound buffer for writing, adding a confirming PING when due.
    ///
    /// `writerSignaled` stays set while the I/O thread keeps finding data, so publishers do not
    /// write to the wake-up pipe; it is cleared only when the thread is about to sleep.
    mutating func takeChunk() -> [UInt8]? {
        guard !outbound.isEmpty else { return nil }
        if appended - lastPingEnd >= ConnectionCore.confirmInterval {
            appendPing(.confirm)
        }
        let chunk = OutboundChunk(bytes: outbound, start: appended - outbound.count)
        unconfirmed.append(chunk)
        unconfirmedBytes += chunk.bytes.count
        outbound = spareBuffers.popLast() ?? []
        if outbound.capacity < 64 * 1024 { outbound.reserveCapacity(64 * 1024) }
        return chunk.bytes
    }

    /// Handles a PONG: returns the flush waiter to resume, if this PONG answered one.
    mutating func pongReceived() -> CheckedContinuation<Result<Void, NATSError>, Never>? {
        outstandingKeepalives = 0
        guard pingHead < pings.count else { return nil }
        let ping = pings[pingHead]
        pingHead += 1
        if pingHead == pings.count {
            pings.removeAll(keepingCapacity: true)
            pingHead = 0
        } else if pingHead > 1024 {
            pings.removeFirst(pingHead)
            pingHead = 0
        }
        if ping.end > confirmed { confirmed = ping.end }
        releaseConfirmed()
        if case .flush(let id) = ping.kind { return flushWaiters.removeValue(forKey: id) }
        return nil
    }

    /// Takes the count of blocked publishers so the caller can wake them outside the lock.
    mutating func takeSpaceWaiters() -> Int {
        let count = spaceWaiters
        spaceWaiters = 0
        return count
    }

    mutating func releaseConfirmed() {
        var released = 0
        while released < unconfirmed.count, unconfirmed[released].end <= confirmed {
            // Move the storage out so it is uniquely referenced and can be reused in place
            // (a copy would make removeAll(keepingCapacity:) allocate fresh memory).
            var bytes: [UInt8] = []
            swap(&bytes, &unconfirmed[released].bytes)
            unconfirmedBytes -= bytes.count
            if spareBuffers.count < 4, bytes.capacity <= 4 * 1024 * 1024 {
                bytes.removeAll(keepingCapacity: true)
                spareBuffers.append(bytes)
            }
            released += 1
        }
        if released > 0 { unconfirmed.removeFirst(released) }
    }

    /// Builds what must be written after a reconnect: live SUBs (with remaining auto-unsubscribe
    /// counts), then every byte the previous server did not confirm, then new publishes.
    mutating func prepareResend() {
        var resend: [UInt8] = []
        for (sid, record) in subs.sorted(by: { $0.key < $1.key }) {
            NATSEncoder.appendSubscribe(subject: record.subject, queue: record.queue, sid: sid, into: &resend)
            if let max = record.max {
                NATSEncoder.appendUnsubscribe(sid: sid, max: Swift.max(1, max - record.delivered), into: &resend)
            }
        }
        for chunk in unconfirmed {
            let skip = Swift.max(0, confirmed - chunk.start)
            if skip < chunk.bytes.count { resend.append(contentsOf: chunk.bytes[skip...]) }
        }
        resend.append(contentsOf: outbound)
        unconfirmed.removeAll()
        unconfirmedBytes = 0
        // The resent stream occupies the offsets it had; SUBs sit just before it.
        confirmed = appended - resend.count
        outbound = resend
        handoff = nil
        writerSignaled = false
        outstandingKeepalives = 0
    }

    /// Counts PUB/HPUB frames not confirmed by a server (used when they are given up).
    func unconfirmedPublishCount() -> Int {
        var count = 0
        for chunk in unconfirmed {
            let skip = Swift.max(0, confirmed - chunk.start)
            if skip < chunk.bytes.count { count += FrameScanner.countPublishes(chunk.bytes[skip...]) }
        }
        count += FrameScanner.countPublishes(outbound[...])
        return count
    }

    func lostSuffix() -> String {
        lostMessages > 0 ? " (\(lostMessages) published messages were never confirmed by a server)" : ""
    }
}

/// Walks this client's own outbound frames (well-formed by construction).
enum FrameScanner {
    static func countPublishes(_ bytes: ArraySlice<UInt8>) -> Int {
        var count = 0
        var index = bytes.startIndex
        while index < bytes.endIndex {
            guard let lf = bytes[index...].firstIndex(of: 0x0A) else { break }
            let line = bytes[index..<lf]
            var next = lf + 1
            if line.starts(with: "PUB ".utf8) || line.starts(with: "HPUB ".utf8) {
                count += 1
                // Last argument is the total size.
                var end = lf - 1
                while end > index, bytes[end - 1] != 0x20 { end -= 1 }
                var size = 0
                var cursor = end
                while cursor < lf - 1 { size = size * 10 + Int(bytes[cursor] - 48); cursor += 1 }
                next = lf + 1 + size + 2
            }
            index = next
        }
        return count
    }
}

/// Unique ids for inboxes: 22 random base-62 characters.
enum NUID {
    static func next() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var rng = SystemRandomNumberGenerator()
        return String((0..<22).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
    }
}
