#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import TributaryTestSupport
import TributaryWire

/// A TCP server on 127.0.0.1 that answers every connection with garbage: random bytes, an
/// endless control line, a NATS `MSG` announcing an absurd size, a Kafka frame announcing
/// 2 GiB, or silence. Each connection is served by a thread of its own with blocking sockets;
/// the pattern of connection `n` is chosen by a generator seeded from the run's seed.
final class GarbageServer: Sendable {
    let port: Int
    private let listener: Int32
    private let state: Mutex<(generator: SeededGenerator, stopped: Bool, connections: Int)>

    init(seed: UInt64) throws {
        port = try freePort()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BrokerEnvironmentError("garbage server: socket() failed") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = SoakSocket.loopbackAddress(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw BrokerEnvironmentError("garbage server cannot listen on 127.0.0.1:\(port)")
        }
        listener = fd
        state = Mutex((SeededGenerator(seed: seed ^ 0x6A09_E667_F3BC_C908), false, 0))
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "soak-garbage-accept"
        thread.start()
    }

    var connections: Int { state.withLock { $0.connections } }

    func stop() {
        state.withLock { $0.stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
    }

    deinit { close(listener) }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if state.withLock({ $0.stopped }) { return }
                if errno == EINTR { continue }
                return
            }
            let (pattern, noise) = state.withLock { state -> (UInt64, UInt64) in
                state.connections += 1
                return (state.generator.next() % 5, state.generator.next())
            }
            let thread = Thread { Self.serve(client, pattern: pattern, noise: noise) }
            thread.name = "soak-garbage-conn"
            thread.start()
        }
    }

    private static func serve(_ fd: Int32, pattern: UInt64, noise: UInt64) {
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var generator = SeededGenerator(seed: noise)
        var bytes: [UInt8]
        switch pattern {
        case 0: // random bytes
            bytes = (0..<65_536).map { _ in UInt8.random(in: 0...255, using: &generator) }
        case 1: // a control line that never ends
            bytes = Array("INFO ".utf8) + Array(repeating: UInt8(ascii: "x"), count: 1 << 20)
        case 2: // a plausible INFO, then a message announcing an absurd payload
            bytes = Array("INFO {\"server_id\":\"garbage\",\"version\":\"2.15.1\",\"max_payload\":1048576}\r\nMSG a 1 99999999999999\r\n".utf8)
                + (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        case 3: // a Kafka-style frame announcing nearly 2 GiB
            bytes = [0x7F, 0xFF, 0xFF, 0xF0] + (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        default: // silence until the client gives up
            bytes = []
        }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { break }
            offset += written
        }
        // Keep the connection open a while (the client decides when to give up), then close.
        usleep(3_000_000)
    }
}
