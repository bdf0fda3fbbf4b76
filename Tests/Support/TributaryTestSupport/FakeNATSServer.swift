#if canImport(Glibc)
import TributaryWire
import Glibc
#endif
import Foundation

/// A scripted NATS server on 127.0.0.1 for tests of misbehaving peers (stale, malformed frames).
///
/// Each accepted connection runs `script` on its own thread with a `FakeNATSConnection`, whose
/// reads wait up to 120 s when not told otherwise. Stop it with `stop()`, which also ends the
/// scripts still running; a connection closes when its script returns.
public final class FakeNATSServer: Sendable {
    /// The listening port.
    public let port: Int
    private let listenFD: Int32
    private let accepted = Locked(0)
    private let stopped = Locked(false)
    private let peers = OpenDescriptors()

    /// `nats://127.0.0.1:PORT`.
    public var url: String { "nats://127.0.0.1:\(port)" }

    /// Connections accepted so far.
    public var acceptedCount: Int { accepted.withLock { $0 } }

    /// Starts listening; `script` runs once per accepted connection (index from 0).
    public init(script: @escaping @Sendable (FakeNATSConnection, Int) -> Void) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BrokerEnvironmentError("socket() failed: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0, listen(fd, 8) == 0 else {
            close(fd)
            throw BrokerEnvironmentError("bind/listen on 127.0.0.1 failed: errno \(errno)")
        }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listenFD = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in
            while !stopped.withLock({ $0 }) {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                let index = accepted.withLock { count -> Int in count += 1; return count - 1 }
                peers.add(client)
                let worker = Thread { [self] in
                    let connection = FakeNATSConnection(fd: client, defaultTimeout: .seconds(120))
                    script(connection, index)
                    peers.close(connection.fd)
                }
                worker.start()
            }
        }
        thread.start()
    }

    /// Stops accepting and shuts down the connections whose scripts still run, so their
    /// reads end and the scripts return.
    public func stop() {
        stopped.withLock { $0 = true }
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
        peers.shutDownAll()
    }
}

/// One accepted connection of a `FakeNATSServer`.
public final class FakeNATSConnection: Sendable {
    let fd: Int32
    /// How long `read(until:)`, `handshake()` and `waitForClose()` wait when not told.
    let defaultTimeout: Duration

    init(fd: Int32, defaultTimeout: Duration = .seconds(5)) {
        self.fd = fd
        self.defaultTimeout = defaultTimeout
    }

    /// Sends raw text.
    public func send(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Reads until `marker` has been seen (or the peer closes / `timeout` passes); returns what was read.
    @discardableResult
    public func read(until marker: String, timeout: Duration? = nil) -> String {
        var received = Data()
        let deadline = ContinuousClock.now + (timeout ?? defaultTimeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 50) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            // Only the new bytes and the marker's length before them can complete the marker.
            let from = max(0, received.count - marker.utf8.count)
            received.append(contentsOf: buffer[0..<n])
            if String(decoding: received[(received.startIndex + from)...], as: UTF8.self).contains(marker) { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Sends INFO, reads CONNECT + PING, answers PONG: the client's handshake completes.
    public func handshake(maxPayload: Int = 1_048_576, extraInfo: String = "") {
        send(#"INFO {"server_id":"FAKE","version":"2.15.1","proto":1,"headers":true,"max_payload":\#(maxPayload)\#(extraInfo)}"# + "\r\n")
        read(until: "PING\r\n")
        send("PONG\r\n")
    }

    /// Waits until the client closes the connection (or `timeout` passes); true when it closed.
    public func waitForClose(timeout: Duration? = nil) -> Bool {
        let deadline = ContinuousClock.now + (timeout ?? defaultTimeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 50) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return true }
        }
        return false
    }

    /// Answers every PING with PONG until the client closes (or `timeout` passes).
    public func answerPings(timeout: Duration? = nil) {
        let deadline = ContinuousClock.now + (timeout ?? defaultTimeout)
        var pending = ""
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 50) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            pending += String(decoding: buffer[0..<n], as: UTF8.self)
            while let range = pending.range(of: "PING\r\n") {
                send("PONG\r\n")
                pending.removeSubrange(pending.startIndex..<range.upperBound)
            }
            // Keep only what could start a PING split across reads: scanning everything ever
            // received again on every read is quadratic and, for megabytes of payload, slower
            // than the timeout.
            if pending.utf8.count > 5 { pending = String(pending.suffix(5)) }
        }
    }
}
