import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Minimal blocking loopback sockets for the broker launchers: readiness probes and HTTP
/// GETs to a server's monitoring port. Independent of the client library on purpose, so
/// that a bug there cannot make a launcher report a broken server as ready.
enum BrokerSocket {
    static func loopbackAddress(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        #if canImport(Darwin)
        address.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
        #endif
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: in_addr_t(0x7F00_0001).bigEndian)
        return address
    }

    /// A new IPv4 TCP socket. `owner` names the caller in errors.
    static func tcpSocket(owner: String) throws -> Int32 {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw BrokerEnvironmentError("\(owner): socket() failed: \(String(cString: strerror(errno)))") }
        return fd
    }

    /// A connected socket to 127.0.0.1:`port` with send and receive timeouts.
    static func connect(port: Int, timeout: Duration) throws -> Int32 {
        let fd = try tcpSocket(owner: "connect to 127.0.0.1:\(port)")
        let (seconds, attoseconds) = timeout.components
        var interval = timeval(
            tv_sec: Int(seconds),
            tv_usec: .init(attoseconds / 1_000_000_000_000)
        )
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        var address = loopbackAddress(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                #if canImport(Glibc)
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                #else
                Darwin.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                #endif
            }
        }
        guard result == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw BrokerEnvironmentError("connect to 127.0.0.1:\(port) failed: \(message)")
        }
        return fd
    }

    /// True if 127.0.0.1:`port` accepts a TCP connection now.
    static func canConnect(port: Int) -> Bool {
        guard let fd = try? connect(port: port, timeout: .seconds(1)) else { return false }
        close(fd)
        return true
    }

    /// The body of `GET path` on 127.0.0.1:`port` (HTTP/1.0, so the server closes the
    /// connection after the response). Throws unless the status is 200.
    static func httpGet(port: Int, path: String, timeout: Duration = .seconds(5)) throws -> Data {
        let fd = try connect(port: port, timeout: timeout)
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else {
                throw BrokerEnvironmentError("GET \(path) on port \(port): send failed: \(String(cString: strerror(errno)))")
            }
            sent += n
        }
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else {
                throw BrokerEnvironmentError("GET \(path) on port \(port): recv failed: \(String(cString: strerror(errno)))")
            }
            response.append(contentsOf: buffer[0..<n])
            guard response.count <= 64 * 1024 * 1024 else {
                throw BrokerEnvironmentError("GET \(path) on port \(port): response larger than 64 MiB")
            }
        }
        guard let headerEnd = response.range(of: Data("\r\n\r\n".utf8)) else {
            throw BrokerEnvironmentError("GET \(path) on port \(port): no HTTP header in \(response.count) bytes")
        }
        let head = String(decoding: response[..<headerEnd.lowerBound], as: UTF8.self)
        let statusLine = head.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
        guard statusLine.split(separator: " ").dropFirst().first == "200" else {
            throw BrokerEnvironmentError("GET \(path) on port \(port): \(statusLine)")
        }
        return Data(response[headerEnd.upperBound...])
    }

    /// A socket listening on 127.0.0.1:`port`. `owner` names the caller in errors.
    static func listen(port: Int, backlog: Int32, owner: String) throws -> Int32 {
        let fd = try tcpSocket(owner: owner)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = loopbackAddress(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #if canImport(Glibc)
        let listening = bound == 0 && Glibc.listen(fd, backlog) == 0
        #else
        let listening = bound == 0 && Darwin.listen(fd, backlog) == 0
        #endif
        guard listening else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw BrokerEnvironmentError("\(owner) cannot listen on 127.0.0.1:\(port): \(reason)")
        }
        return fd
    }

    /// The accept loop of the test proxies: while `keepGoing()` holds (checked at least every
    /// 200 ms), accepts a client on `listener`, connects it to 127.0.0.1:`upstreamPort` and
    /// hands both descriptors to `pair`, which owns them from then on. A client whose upstream
    /// cannot be reached is closed.
    static func acceptPairs(listener: Int32, upstreamPort: Int, keepGoing: () -> Bool, pair: (_ client: Int32, _ upstream: Int32) -> Void) {
        while true {
            var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 200)
            guard keepGoing() else { return }
            guard ready > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            guard let upstream = try? connect(port: upstreamPort, timeout: .seconds(5)) else {
                close(client)
                continue
            }
            pair(client, upstream)
        }
    }
}
