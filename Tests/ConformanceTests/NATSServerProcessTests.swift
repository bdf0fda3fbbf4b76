import Foundation
import Testing
import TributaryTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The launchers the conformance suite relies on, checked with raw sockets (not the client
/// library): a real nats-server greets every client with `INFO {...}\r\n`.
@Suite("nats-server launcher")
struct NATSServerProcessTests {
    @Test("plain server: INFO greeting, kill, restart on the same port, stop")
    func plainServerLifecycle() async throws {
        let server = try await NATSServerProcess.plain()
        defer { server.stop() }
        #expect(server.url == "nats://127.0.0.1:\(server.port)")

        let info = try RawNATSSocket.infoLine(port: server.port)
        #expect(info.hasPrefix("INFO {"), "first line: \(info)\nlog:\n\(server.logs())")
        #expect(info.contains("\"port\":\(server.port)"), "\(info)")

        let firstPID = try #require(server.processIdentifier)
        server.kill()
        #expect(!server.isRunning)
        #expect(kill(firstPID, 0) != 0, "pid \(firstPID) still exists after kill()")
        #expect(!RawNATSSocket.accepts(port: server.port), "port \(server.port) still accepts after kill()")

        try await server.restart()
        let secondPID = try #require(server.processIdentifier)
        #expect(secondPID != firstPID)
        let again = try RawNATSSocket.infoLine(port: server.port)
        #expect(again.hasPrefix("INFO {"), "first line after restart: \(again)\nlog:\n\(server.logs())")
        #expect(server.logs().contains("==== launch 2:"), "\(server.logs())")

        server.stop()
        #expect(!server.isRunning)
        #expect(kill(secondPID, 0) != 0, "pid \(secondPID) still exists after stop()")
        #expect(!RawNATSSocket.accepts(port: server.port), "port \(server.port) still accepts after stop()")
    }

    @Test("auth and JetStream factories advertise what they were started with")
    func factories() async throws {
        let userPassword = try await NATSServerProcess.withUserPassword(user: "alice", password: "s3cret")
        defer { userPassword.stop() }
        let token = try await NATSServerProcess.withToken("t0ken")
        defer { token.stop() }
        let config = try await NATSServerProcess.withConfig(
            """
            authorization {
              users: [ { user: "bob", password: "pw", permissions: { publish: "bob.>", subscribe: "bob.>" } } ]
            }
            """
        )
        defer { config.stop() }
        let jetStream = try await NATSServerProcess.jetStream()
        defer { jetStream.stop() }

        for server in [userPassword, token, config] {
            let info = try RawNATSSocket.infoLine(port: server.port)
            #expect(info.contains("\"auth_required\":true"), "\(info)\nlog:\n\(server.logs())")
        }
        let configText = try String(contentsOfFile: try #require(config.configPath), encoding: .utf8)
        #expect(configText.hasPrefix("listen: 127.0.0.1:\(config.port)\n"))

        let info = try RawNATSSocket.infoLine(port: jetStream.port)
        #expect(info.contains("\"jetstream\":true"), "\(info)\nlog:\n\(jetStream.logs())")
        #expect(!userPassword.logs().contains("s3cret"), "password leaked into the log banner")
    }

    @Test("three-node cluster: routes up, clients told about the other nodes, one node stopped")
    func threeNodeCluster() async throws {
        let cluster = try NATSClusterProcess()
        defer { cluster.stopAll() }
        try await cluster.startAll()
        #expect(cluster.urls.count == 3)
        #expect(Set(cluster.servers.map(\.port)).count == 3)

        for (index, server) in cluster.servers.enumerated() {
            let info = try RawNATSSocket.infoLine(port: server.port)
            #expect(info.hasPrefix("INFO {"), "node \(index): \(info)")
            // Clients learn the other nodes' client addresses from INFO connect_urls.
            for other in cluster.servers where other !== server {
                #expect(info.contains("127.0.0.1:\(other.port)"), "node \(index) INFO lacks node port \(other.port): \(info)")
            }
        }

        cluster.stop(0)
        #expect(!cluster.servers[0].isRunning)
        try await cluster.waitForRoutes(timeout: .seconds(20))
        #expect(cluster.servers[1].isRunning && cluster.servers[2].isRunning)
        let routez = try cluster.servers[1].monitor("/routez")
        #expect(!routez.isEmpty)

        try await cluster.restart(0)
        #expect(cluster.servers.allSatisfy { $0.isRunning })

        cluster.stopAll()
        #expect(cluster.servers.allSatisfy { !$0.isRunning })
    }

    @Test("freePort returns distinct bindable ports")
    func freePorts() throws {
        let ports = try (0..<20).map { _ in try freePort() }
        #expect(Set(ports).count == ports.count)
        #expect(ports.allSatisfy { (1...65535).contains($0) })
    }

    @Test("the broker environment finds the repository and nats-server")
    func brokerEnvironment() throws {
        let root = BrokerEnvironment.repoRoot()
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("Tools/brokers.sh").path), "\(root.path)")
        let binary = try BrokerEnvironment.natsServerBinary()
        #expect(FileManager.default.isExecutableFile(atPath: binary))

        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("tributary-env-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(
            """
            # comment
            export NATS_URL=nats://127.0.0.1:1234
            export SPACED=/tmp/a\\ b
            export QUOTED='x y'
            export NATS_URL=nats://127.0.0.1:5678
            """.utf8
        ).write(to: file)
        #expect(BrokerEnvironment.recordedValue("NATS_URL", in: file) == "nats://127.0.0.1:5678")
        #expect(BrokerEnvironment.recordedValue("SPACED", in: file) == "/tmp/a b")
        #expect(BrokerEnvironment.recordedValue("QUOTED", in: file) == "x y")
        #expect(BrokerEnvironment.recordedValue("MISSING", in: file) == nil)
    }
}

/// Blocking loopback client sockets written against the C library only.
private enum RawNATSSocket {
    static func open(port: Int) throws -> Int32 {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw RawSocketError("socket: \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: in_addr_t(0x7F00_0001).bigEndian)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let message = String(cString: strerror(errno))
            close(fd)
            throw RawSocketError("connect 127.0.0.1:\(port): \(message)")
        }
        return fd
    }

    static func accepts(port: Int) -> Bool {
        guard let fd = try? open(port: port) else { return false }
        close(fd)
        return true
    }

    /// The server's first line, without the CRLF.
    static func infoLine(port: Int) throws -> String {
        let fd = try open(port: port)
        defer { close(fd) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = received.indices.first(where: { received[$0] == 13 && $0 + 1 < received.count && received[$0 + 1] == 10 }) {
                return String(decoding: received[..<end], as: UTF8.self)
            }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else {
                throw RawSocketError("recv from 127.0.0.1:\(port) after \(received.count) bytes: \(n == 0 ? "closed" : String(cString: strerror(errno)))")
            }
            received += buffer[0..<n]
            guard received.count < 1 << 20 else { throw RawSocketError("no CRLF in the first MiB") }
        }
    }
}

private struct RawSocketError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
