#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TributaryWire

/// A connected byte stream a client's I/O thread drives: non-blocking reads and writes, and a
/// descriptor to `poll` for readiness.
///
/// Implementations: `SocketStream` (TCP, or any connected socket such as one end of an in-memory
/// `socketpair`), and a TLS stream that wraps a connected socket. Clients take a
/// `TransportStreamFactory`, so tests can hand them an in-memory peer instead of a server.
public protocol TransportStream: AnyObject, Sendable {
    /// The descriptor the I/O thread polls for `POLLIN`/`POLLOUT`.
    var descriptor: Int32 { get }
    /// `host:port` of the peer, as the client named it.
    var peerAddress: String { get }
    /// True when one thread may write while another reads (plain sockets, TLS streams, which
    /// lock around their session); false when every operation must come from the owning thread.
    var allowsConcurrentWrite: Bool { get }
    /// True when bytes are already decoded and waiting inside the stream (a TLS record read
    /// further than the caller took): `poll` does not report them, so read before sleeping.
    var hasBufferedInput: Bool { get }
    /// True when the last `read` would block until the descriptor is writable (TLS may have to
    /// send before it can read): poll for `POLLOUT` as well, and read again when it is reported.
    var readWantsWritable: Bool { get }
    /// Reads into `buffer`. Throws `.closedByPeer` at end of stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> TCPSocket.IOResult
    /// Writes from `buffer`, possibly partially.
    func write(_ buffer: UnsafeRawBufferPointer) throws(TransportError) -> TCPSocket.IOResult
    /// Shuts the stream down in both directions without releasing the descriptor, so a writer on
    /// another thread fails instead of writing to a reused descriptor.
    func shutdown()
    /// Releases the descriptor. Idempotent.
    func close()
}

extension TransportStream {
    public var hasBufferedInput: Bool { false }
    public var readWantsWritable: Bool { false }

    /// Writes all of `buffer`, polling for writability up to `timeout` in total.
    public func writeAll(_ buffer: UnsafeRawBufferPointer, timeout: Duration) throws(TransportError) {
        try Readiness.writeAll(buffer, fd: descriptor, endpoint: peerAddress, timeout: timeout) { (chunk) throws(TransportError) in try write(chunk) }
    }

    /// Waits until the descriptor is ready for `events`; returns false on timeout.
    public func waitFor(events: Int16, timeout: Duration) throws(TransportError) -> Bool {
        try Readiness.wait(fd: descriptor, events: events, timeout: timeout, endpoint: peerAddress)
    }
}

/// Blocking waits on a non-blocking descriptor, shared by `TCPSocket` and every `TransportStream`.
enum Readiness {
    /// Polls `fd` for `events`; false on timeout.
    static func wait(fd: Int32, events: Int16, timeout: Duration, endpoint: String) throws(TransportError) -> Bool {
        var pfd = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let ready = poll(&pfd, 1, timeout.pollMilliseconds)
            if ready > 0 { return true }
            if ready == 0 { return false }
            if errno == EINTR { continue }
            throw .fromErrno(errno, endpoint: endpoint, operation: "poll")
        }
    }

    /// Calls `write` until all of `buffer` is written, polling for writability when it would block.
    static func writeAll(_ buffer: UnsafeRawBufferPointer, fd: Int32, endpoint: String, timeout: Duration,
                         write: (UnsafeRawBufferPointer) throws(TransportError) -> TCPSocket.IOResult) throws(TransportError) {
        var offset = 0
        while offset < buffer.count {
            switch try write(UnsafeRawBufferPointer(rebasing: buffer[offset...])) {
            case .bytes(let n): offset += n
            case .wouldBlock:
                guard try wait(fd: fd, events: Int16(POLLOUT), timeout: timeout, endpoint: endpoint) else {
                    throw TransportError(code: .timedOut, endpoint: endpoint, message: "write timed out after \(timeout)")
                }
            }
        }
    }
}

/// Opens a connected stream to `host:port`, giving up after `timeout`. Runs on the client's I/O
/// thread, never on the Swift concurrency pool.
public typealias TransportStreamFactory = @Sendable (_ host: String, _ port: Int, _ timeout: Duration) throws(TransportError) -> any TransportStream

/// A connected, non-blocking socket as a `TransportStream`.
public final class SocketStream: TransportStream {
    private let socket: TCPSocket
    /// Set once the descriptor is released; guards against a double close.
    private let closed = Atomic<Bool>(false)

    /// Wraps a connected socket.
    public init(_ socket: TCPSocket) {
        self.socket = socket
    }

    /// Connects over TCP (`TCPSocket.connect`).
    public static let tcp: TransportStreamFactory = { (host, port, timeout) throws(TransportError) in
        SocketStream(try TCPSocket.connect(host: host, port: port, timeout: timeout))
    }

    public var descriptor: Int32 { socket.fd }
    public var peerAddress: String { socket.endpoint }
    public var allowsConcurrentWrite: Bool { true }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> TCPSocket.IOResult {
        try socket.read(into: buffer)
    }

    public func write(_ buffer: UnsafeRawBufferPointer) throws(TransportError) -> TCPSocket.IOResult {
        try socket.write(buffer)
    }

    public func shutdown() { socket.shutdown() }

    public func close() {
        if !closed.exchange(true, ordering: .acquiringAndReleasing) { socket.close() }
    }
}
