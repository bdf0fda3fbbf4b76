#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TributaryWire

/// A connected, non-blocking TCP socket with `TCP_NODELAY` set.
///
/// One owner thread reads and writes; `close()` is idempotent. The type is a value wrapper
/// around the descriptor: copies share the descriptor, so only the owner should close it.
public struct TCPSocket: Sendable {
    /// The file descriptor.
    public let fd: Int32
    /// `host:port` this socket was connected to.
    public let endpoint: String

    /// Resolves `host` (IPv4 and IPv6), tries every address in turn, and returns the first that connects.
    ///
    /// - Throws: `TransportError` with `.dnsFailure`, `.connectionRefused` or `.timedOut`, naming `host:port`.
    ///   The timeout applies to each address attempt.
    public static func connect(host: String, port: Int, timeout: Duration) throws(TransportError) -> TCPSocket {
        let endpoint = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        hints.ai_flags = AI_ADDRCONFIG
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            let reason = String(cString: gai_strerror(status))
            throw TransportError(code: .dnsFailure, endpoint: endpoint, message: "cannot resolve host '\(host)': \(reason); check the server address")
        }
        defer { freeaddrinfo(first) }

        var lastError = TransportError(code: .connectionRefused, endpoint: endpoint, message: "no usable address")
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            do {
                return try connectOne(info.pointee, endpoint: endpoint, timeout: timeout)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private static func connectOne(_ info: addrinfo, endpoint: String, timeout: Duration) throws(TransportError) -> TCPSocket {
        // Close-on-exec from the start: a program the application starts (fork and exec) must not
        // inherit the connection, or the broker would not see it close when we close it.
        #if canImport(Glibc)
        let fd = socket(info.ai_family, info.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.ai_protocol)
        #else
        let fd = socket(info.ai_family, info.ai_socktype, info.ai_protocol)
        if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        #endif
        guard fd >= 0 else { throw .fromErrno(errno, endpoint: endpoint, operation: "socket") }
        var ok = false
        defer { if !ok { _ = Glibc.close(fd) } }
        setNonBlocking(fd)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
        if Glibc.connect(fd, info.ai_addr, info.ai_addrlen) != 0 {
            let err = errno
            guard err == EINPROGRESS else { throw .fromErrno(err, endpoint: endpoint, operation: "connect") }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&pfd, 1, timeout.pollMilliseconds)
            if ready == 0 {
                throw TransportError(code: .timedOut, endpoint: endpoint,
                                     message: "connect timed out after \(timeout); check the address and that the server is reachable")
            }
            if ready < 0 { throw .fromErrno(errno, endpoint: endpoint, operation: "connect") }
            var soError: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
            if soError != 0 { throw .fromErrno(soError, endpoint: endpoint, operation: "connect") }
        }
        ok = true
        return TCPSocket(fd: fd, endpoint: endpoint)
    }

    /// Adopts an already-connected socket (for example one end of a `socketpair`), making it
    /// non-blocking. The caller hands over ownership of `fd`.
    public init(adopting fd: Int32, endpoint: String) {
        Self.setNonBlocking(fd)
        self.init(fd: fd, endpoint: endpoint)
    }

    private init(fd: Int32, endpoint: String) {
        self.fd = fd
        self.endpoint = endpoint
    }

    private static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL, 0)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    /// The result of a non-blocking read or write.
    public enum IOResult: Sendable, Equatable {
        /// This many bytes were transferred.
        case bytes(Int)
        /// Nothing can be transferred now; poll and try again.
        case wouldBlock
    }

    /// Reads into `buffer`. Throws `.closedByPeer` at end of stream.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> IOResult {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 { return .bytes(n) }
            if n == 0 {
                throw TransportError(code: .closedByPeer, endpoint: endpoint, message: "connection closed by the server")
            }
            let err = errno
            if err == EINTR { continue }
            if err == EAGAIN || err == EWOULDBLOCK { return .wouldBlock }
            throw .fromErrno(err, endpoint: endpoint, operation: "read")
        }
    }

    /// Writes from `buffer`, possibly partially.
    public func write(_ buffer: UnsafeRawBufferPointer) throws(TransportError) -> IOResult {
        while true {
            #if canImport(Glibc)
            let n = Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            #else
            let n = Darwin.write(fd, buffer.baseAddress, buffer.count)
            #endif
            if n >= 0 { return .bytes(n) }
            let err = errno
            if err == EINTR { continue }
            if err == EAGAIN || err == EWOULDBLOCK { return .wouldBlock }
            throw .fromErrno(err, endpoint: endpoint, operation: "write")
        }
    }

    /// Writes all of `buffer`, polling for writability up to `timeout` in total.
    public func writeAll(_ buffer: UnsafeRawBufferPointer, timeout: Duration) throws(TransportError) {
        try Readiness.writeAll(buffer, fd: fd, endpoint: endpoint, timeout: timeout) { (chunk) throws(TransportError) in try write(chunk) }
    }

    /// Waits until the socket is ready for `events`; returns false on timeout.
    public func waitFor(events: Int16, timeout: Duration) throws(TransportError) -> Bool {
        try Readiness.wait(fd: fd, events: events, timeout: timeout, endpoint: endpoint)
    }

    /// Shuts the socket down in both directions, waking any thread blocked on it.
    public func shutdown() {
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Closes the descriptor.
    public func close() {
        _ = Glibc.close(fd)
    }
}
