/// The client's outbound byte stream, kept until the server confirms it.
///
/// Frames are appended to `pending`. The writer takes `pending` as a chunk; a taken chunk stays
/// in `unconfirmed` until a PONG answers a PING written after it, so a connection lost mid-way
/// re-sends exactly the bytes no server confirmed. Offsets count every byte ever appended.
/// PONG replies to the server's PINGs travel apart (`control`): they are written before the next
/// chunk and never kept, so a server that floods PINGs cannot make the client retain memory.
public struct NATSOutboundStream: Sendable {
    /// Why a PING was written.
    public enum PingKind: Sendable, Hashable {
        /// A `flush()` waits for its PONG.
        case flush(UInt64)
        /// Confirms the bytes before it, so their copies can be released.
        case confirm
        /// Keep-alive: the connection is stale when too many go unanswered.
        case keepalive
        /// Confirms everything before a move away from a lame-duck server.
        case switchServer
    }

    struct PendingPing {
        /// Stream offset just past this PING.
        var end: Int
        var kind: PingKind
    }

    struct Chunk {
        var bytes: [UInt8]
        var start: Int
        var end: Int { start + bytes.count }
    }

    /// Bytes appended and not yet taken by the writer.
    public internal(set) var pending: [UInt8] = []
    /// PONG replies waiting to be written; never retained after writing.
    public internal(set) var control: [UInt8] = []
    var spare: [[UInt8]] = []
    var unconfirmed: [Chunk] = []
    /// Bytes taken for writing and not yet confirmed by the server.
    public internal(set) var unconfirmedBytes = 0
    /// Every byte ever appended (the offset of the stream's end).
    public internal(set) var appended = 0
    /// The offset up to which the server confirmed.
    public internal(set) var confirmed = 0
    /// Offset just past the last PING appended.
    public internal(set) var lastPingEnd = 0
    var pings: [PendingPing] = []
    var pingHead = 0

    /// Capacity of a fresh buffer: a buffer sized once is reused without growing.
    public var bufferCapacity: Int
    /// Chunks up to this size are copied out of the pending buffer instead of taking it.
    static let copyLimit = 32 * 1024
    /// How many written-and-confirmed buffers are kept for reuse.
    public var maxSpareBuffers = 16

    /// Creates an empty stream whose buffers hold `capacity` bytes before they grow.
    public init(capacity: Int = 64 * 1024) {
        bufferCapacity = capacity
        pending.reserveCapacity(capacity)
    }

    /// Pending plus unconfirmed bytes: what the reconnect buffer bound counts.
    public var retainedBytes: Int { pending.count + unconfirmedBytes }

    /// PINGs written (or to be written) whose PONG has not arrived.
    public var outstandingPings: Int { pings.count - pingHead }

    /// Appends bytes produced by `encode`.
    @inline(__always)
    public mutating func append(_ encode: (inout [UInt8]) -> Void) {
        let before = pending.count
        encode(&pending)
        appended += pending.count - before
    }

    /// Appends a PING of `kind`.
    public mutating func appendPing(_ kind: PingKind) {
        NATSEncoder.appendPing(into: &pending)
        appended += 6
        lastPingEnd = appended
        pings.append(PendingPing(end: appended, kind: kind))
    }

    /// Queues a PONG reply (control traffic, not retained).
    public mutating func appendPong() {
        NATSEncoder.appendPong(into: &control)
    }

    /// Takes queued PONG replies for writing.
    public mutating func takeControl() -> [UInt8]? {
        guard !control.isEmpty else { return nil }
        defer { control = [] }
        return control
    }

    /// Takes the pending bytes for writing, adding a confirming PING every `confirmInterval` bytes.
    public mutating func takeChunk(confirmInterval: Int) -> [UInt8]? {
        guard !pending.isEmpty else { return nil }
        if appended - lastPingEnd >= confirmInterval { appendPing(.confirm) }
        let start = appended - pending.count
        if pending.count <= Self.copyLimit || pending.count < pending.capacity / 2 {
            // A small chunk is copied out and the big buffer stays: a kept chunk never pins more
            // memory than it holds, and the buffer is reused without allocating.
            let copy = [UInt8](unsafeUninitializedCapacity: pending.count) { buffer, count in
                count = pending.withUnsafeBufferPointer { source in buffer.initialize(fromContentsOf: source) }
            }
            let chunk = Chunk(bytes: copy, start: start)
            pending.removeAll(keepingCapacity: true)
            unconfirmed.append(chunk)
            unconfirmedBytes += chunk.bytes.count
            return chunk.bytes
        }
        let chunk = Chunk(bytes: pending, start: start)
        unconfirmed.append(chunk)
        unconfirmedBytes += chunk.bytes.count
        pending = spare.popLast() ?? []
        if pending.capacity < bufferCapacity { pending.reserveCapacity(bufferCapacity) }
        return chunk.bytes
    }

    /// A PONG arrived: confirms everything up to the oldest outstanding PING and returns its kind
    /// (nil for a PONG nobody asked for).
    public mutating func pongReceived() -> PingKind? {
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
        return ping.kind
    }

    /// Confirms everything up to `offset` (a reply proved the server processed it).
    public mutating func confirm(upTo offset: Int) {
        let written = appended - pending.count
        let end = Swift.min(offset, written)
        guard end > confirmed else { return }
        confirmed = end
        releaseConfirmed()
    }

    mutating func releaseConfirmed() {
        var released = 0
        while released < unconfirmed.count, unconfirmed[released].end <= confirmed {
            // Move the storage out so it is uniquely referenced and can be reused in place.
            var bytes: [UInt8] = []
            swap(&bytes, &unconfirmed[released].bytes)
            unconfirmedBytes -= bytes.count
            if spare.count < maxSpareBuffers, bytes.capacity <= 2 * bufferCapacity {
                bytes.removeAll(keepingCapacity: true)
                spare.append(bytes)
            }
            released += 1
        }
        if released > 0 { unconfirmed.removeFirst(released) }
    }

    /// Rebuilds the stream for a new connection: `prefix` (the live SUBs, with their remaining
    /// auto-unsubscribe counts), then every publish and PING no server confirmed, then the bytes
    /// not yet written. SUB and UNSUB frames of the old stream are left out: the prefix
    /// supersedes them. The re-sent bytes get fresh offsets, and each outstanding PING keeps its
    /// waiter at its new place, so the new server's PONGs confirm them as before. PONG replies
    /// owed to the old server are dropped.
    public mutating func prepareResend(prefix: [UInt8]) {
        var resend = prefix
        var pingEnds: [Int] = []
        for chunk in unconfirmed {
            let skip = Swift.max(0, confirmed - chunk.start)
            if skip < chunk.bytes.count { Self.copyResendable(chunk.bytes[(chunk.bytes.startIndex + skip)...], into: &resend, pingEnds: &pingEnds) }
        }
        Self.copyResendable(pending[...], into: &resend, pingEnds: &pingEnds)
        let base = appended
        appended += resend.count
        confirmed = base
        var remapped: [PendingPing] = []
        for (index, ping) in pings[pingHead...].enumerated() where index < pingEnds.count {
            remapped.append(PendingPing(end: base + pingEnds[index], kind: ping.kind))
        }
        pings = remapped
        pingHead = 0
        lastPingEnd = remapped.last?.end ?? base
        unconfirmed.removeAll()
        unconfirmedBytes = 0
        control = []
        pending = resend
    }

    /// Copies PUB/HPUB frames, PINGs and anything else except SUB/UNSUB, noting where each PING ends.
    static func copyResendable(_ bytes: ArraySlice<UInt8>, into out: inout [UInt8], pingEnds: inout [Int]) {
        forEachFrame(bytes) { kind, frame in
            switch kind {
            case .subscription: break   // superseded by the prefix
            case .publish, .other: out.append(contentsOf: frame)
            case .ping:
                out.append(contentsOf: frame)
                pingEnds.append(out.count)
            }
        }
    }

    enum FrameKind { case publish, subscription, ping, other }

    /// Walks this client's own frames (well-formed by construction): a PUB/HPUB frame spans its
    /// control line and payload, every other frame its line. A cut-off tail counts as one frame.
    static func forEachFrame(_ bytes: ArraySlice<UInt8>, _ body: (FrameKind, ArraySlice<UInt8>) -> Void) {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            guard let lf = bytes[index...].firstIndex(of: 0x0A) else {
                body(.other, bytes[index...])
                return
            }
            let line = bytes[index..<lf]
            var end = lf + 1
            let kind: FrameKind
            if line.starts(with: "PUB ".utf8) || line.starts(with: "HPUB ".utf8) {
                // The last argument is the total size.
                var digits = lf - 1
                while digits > index, bytes[digits - 1] != 0x20 { digits -= 1 }
                var size = 0
                var cursor = digits
                while cursor < lf - 1 { size = size * 10 + Int(bytes[cursor] - 48); cursor += 1 }
                end = Swift.min(bytes.endIndex, lf + 1 + size + 2)
                kind = .publish
            } else if line.starts(with: "SUB ".utf8) || line.starts(with: "UNSUB ".utf8) {
                kind = .subscription
            } else {
                kind = line.starts(with: "PING".utf8) ? .ping : .other
            }
            body(kind, bytes[index..<end])
            index = end
        }
    }

    /// Counts PUB/HPUB frames not confirmed by a server (reported when they are given up).
    public func unconfirmedPublishCount() -> Int {
        var count = 0
        for chunk in unconfirmed {
            let skip = Swift.max(0, confirmed - chunk.start)
            if skip < chunk.bytes.count { count += Self.countPublishes(chunk.bytes[skip...]) }
        }
        return count + Self.countPublishes(pending[...])
    }

    /// Drops everything (the client is closed).
    public mutating func discardAll() {
        pending = []
        control = []
        unconfirmed = []
        unconfirmedBytes = 0
        spare = []
        pings = []
        pingHead = 0
    }

    /// Counts PUB and HPUB frames.
    static func countPublishes(_ bytes: ArraySlice<UInt8>) -> Int {
        var count = 0
        forEachFrame(bytes) { kind, _ in if kind == .publish { count += 1 } }
        return count
    }
}
