#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TributaryTestSupport
import TributaryTransport

/// A listening loopback socket for transport tests (no broker involved).
private final class Listener {
    let fd: Int32
    let port: Int

    init() throws {
        let listenFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listenFD, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listenFD, $0, length) } }
        listen(listenFD, 8)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listenFD, $0, &length) } }
        fd = listenFD
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func acceptOne() -> Int32 { accept(fd, nil, nil) }

    deinit { close(fd) }
}

extension Array where Element == UInt8 {
    mutating func withBytesMutable<R>(_ body: (UnsafeMutableRawBufferPointer) throws(TransportError) -> R) throws(TransportError) -> R {
        var failure: TransportError?
        let value: R? = withUnsafeMutableBytes { raw -> R? in
            do throws(TransportError) { return try body(raw) } catch { failure = error; return nil }
        }
        if let failure { throw failure }
        return value!
    }
}

@Suite("TCP transport over loopback")
struct TCPSocketTests {
    @Test func aConnectionIsNotInheritedByAProgramTheApplicationStarts() async throws {
        let listener = try Listener()
        let socket = try TCPSocket.connect(host: "127.0.0.1", port: listener.port, timeout: .seconds(2))
        defer { socket.close() }
        #expect(fcntl(socket.fd, F_GETFD) & FD_CLOEXEC != 0)
        // A child started with fork and exec (system(3)) lists where its descriptors point: our
        // socket's inode is not among them.
        let inode = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(socket.fd)")
        #expect(inode.hasPrefix("socket:["))
        let listing = "/tmp/tributary-cloexec-\(getpid()).txt"
        defer { unlink(listing) }
        #expect(system("ls -l /proc/self/fd/ > \(listing) 2>/dev/null") == 0)
        let children = try String(contentsOfFile: listing, encoding: .utf8)
        #expect(children.contains("/proc/"), "the listing is empty: \(children)")
        #expect(!children.contains(inode), "the child inherited the connection (\(inode)): \(children)")
    }

    @Test func connectWriteReadAndPeerClose() throws {
        let listener = try Listener()
        let socket = try TCPSocket.connect(host: "127.0.0.1", port: listener.port, timeout: .seconds(2))
        defer { socket.close() }
        let peer = listener.acceptOne()
        #expect(peer >= 0)
        let message = Array("PING\r\n".utf8)
        try message.withUnsafeBytes { try socket.writeAll($0, timeout: .seconds(2)) }
        var received = [UInt8](repeating: 0, count: 16)
        let n = received.withUnsafeMutableBytes { recv(peer, $0.baseAddress, $0.count, 0) }
        #expect(Array(received[0..<n]) == message)

        _ = "PONG\r\n".withCString { send(peer, $0, 6, 0) }
        #expect(try socket.waitFor(events: Int16(POLLIN), timeout: .seconds(2)))
        var buffer = [UInt8](repeating: 0, count: 16)
        let result = try buffer.withUnsafeMutableBytes { try socket.read(into: $0) }
        #expect(result == .bytes(6))
        #expect(Array(buffer[0..<6]) == Array("PONG\r\n".utf8))

        // Nothing more to read: a non-blocking read says so instead of blocking.
        let again = try buffer.withUnsafeMutableBytes { try socket.read(into: $0) }
        #expect(again == .wouldBlock)

        close(peer)
        #expect(try socket.waitFor(events: Int16(POLLIN), timeout: .seconds(2)))
        do throws(TransportError) {
            _ = try buffer.withBytesMutable { (raw) throws(TransportError) in try socket.read(into: raw) }
            Issue.record("read after peer close should throw")
        } catch {
            #expect(error.code == .closedByPeer)
            #expect(error.description.contains("127.0.0.1:\(listener.port)"))
        }
    }

    @Test func refusedConnectionIsTypedAndNamesTheEndpoint() throws {
        let port = try freePort()
        do {
            _ = try TCPSocket.connect(host: "127.0.0.1", port: port, timeout: .seconds(2))
            Issue.record("connect to a closed port succeeded")
        } catch {
            #expect(error.code == .connectionRefused)
            #expect(error.endpoint == "127.0.0.1:\(port)")
        }
    }

    @Test func unresolvableHostIsADNSFailure() throws {
        do {
            _ = try TCPSocket.connect(host: "no-such-host.invalid", port: 4222, timeout: .seconds(2))
            Issue.record("resolved an .invalid host")
        } catch {
            #expect(error.code == .dnsFailure)
            #expect(error.description.contains("no-such-host.invalid"))
        }
    }

    @Test func localhostTriesEveryAddressIPv6AndIPv4() throws {
        // "localhost" may resolve to ::1 first; only 127.0.0.1 listens, so the client must move on.
        let listener = try Listener()
        let socket = try TCPSocket.connect(host: "localhost", port: listener.port, timeout: .seconds(2))
        socket.close()
    }

    @Test func wakeupPipeWakesAPoller() throws {
        let pipe = try WakeupPipe()
        defer { pipe.close() }
        var pfd = pollfd(fd: pipe.readFD, events: Int16(POLLIN), revents: 0)
        #expect(poll(&pfd, 1, 0) == 0)
        pipe.wake()
        pipe.wake()
        #expect(poll(&pfd, 1, 1000) == 1)
        pipe.drain()
        pfd.revents = 0
        #expect(poll(&pfd, 1, 0) == 0)
    }
}
