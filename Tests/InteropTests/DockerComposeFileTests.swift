import Foundation
import Testing
import TributaryJetStream
import TributaryNATS
import TributaryTLS
import TributaryTestSupport

/// `Tools/docker/docker-compose.yml` checked without a Docker engine: docker-compose 1.29.2
/// (installed by Tools/brokers.sh into its own venv) validates it against the Compose schema,
/// and the nats services' command lines run with the local nats-server, so their flags and the
/// TLS files from `Tools/docker/make-certs.sh` are known to work. The images themselves are not
/// pulled or run here.
@Suite("Docker compose file", .serialized)
struct DockerComposeFileTests {
    static var composeFile: String { BrokerEnvironment.repoRoot().appendingPathComponent("Tools/docker/docker-compose.yml").path }

    static func checker() throws -> String { try BrokerEnvironment.recorded("TRIBUTARY_COMPOSE_CHECKER") }

    /// The compose file as JSON, read with the peer Python's PyYAML.
    static func services() async throws -> [String: Any] {
        let python = try BrokerEnvironment.pythonExecutable()
        let child = ChildProcess(python, ["-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))", composeFile])
        try child.start()
        let result = await child.finish(timeout: .seconds(60))
        #expect(result.status == 0, "\(result.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        return try #require(object?["services"] as? [String: Any])
    }

    @Test func theComposeCheckerAcceptsTheFileWithEveryProfile() async throws {
        let child = ChildProcess(try Self.checker(), ["-f", Self.composeFile, "--profile", "tls", "--profile", "redpanda", "config", "--services"])
        try child.start()
        let result = await child.finish(timeout: .seconds(120))
        #expect(result.status == 0, "docker-compose config: \(result.stderr)")
        #expect(Set(result.stdout.split(separator: "\n").map(String.init)) == ["nats", "nats-tls", "kafka", "redpanda"])
    }

    @Test func theComposeCheckerRejectsAnInvalidFile() async throws {
        // The checker must be able to fail: a service whose ports are not a list.
        let text = try String(contentsOfFile: Self.composeFile, encoding: .utf8)
        let broken = text.replacingOccurrences(of: "    ports:\n      - \"127.0.0.1:4222:4222\"\n", with: "    ports: 4222\n")
        #expect(broken != text)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("compose-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("docker-compose.yml").path
        try broken.write(toFile: path, atomically: true, encoding: .utf8)
        let child = ChildProcess(try Self.checker(), ["-f", path, "config", "-q"])
        try child.start()
        let result = await child.finish(timeout: .seconds(120))
        #expect(result.status != 0)
        #expect(result.stderr.contains("ports"), "\(result.stderr)")
    }

    @Test func kafkaServicesListenWhereTheREADMESays() async throws {
        let services = try await Self.services()
        let kafka = try #require(services["kafka"] as? [String: Any])
        #expect((kafka["ports"] as? [String]) == ["127.0.0.1:9092:9092"])
        let environment = try #require(kafka["environment"] as? [String: String])
        #expect(environment["KAFKA_PROCESS_ROLES"] == "broker,controller", "KRaft, no ZooKeeper")
        #expect(environment["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://127.0.0.1:9092")
        #expect(environment["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1", "transactions need it on one node")
        let redpanda = try #require(services["redpanda"] as? [String: Any])
        #expect((redpanda["profiles"] as? [String]) == ["redpanda"])
        #expect((redpanda["ports"] as? [String]) == ["127.0.0.1:19092:19092"])
    }

    /// Runs a nats service's command with the local nats-server, its port, store and
    /// certificate paths moved to this machine, and checks that JetStream answers.
    private func runNATSService(_ name: String, tls: Bool) async throws {
        let services = try await Self.services()
        let service = try #require(services[name] as? [String: Any])
        var arguments = try #require(service["command"] as? [String])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("compose-nats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificates = directory.appendingPathComponent("certs").path
        if tls {
            let make = ChildProcess("/bin/bash", [BrokerEnvironment.repoRoot().appendingPathComponent("Tools/docker/make-certs.sh").path, certificates])
            try make.start()
            let made = await make.finish(timeout: .seconds(60))
            #expect(made.status == 0, "make-certs.sh: \(made.stderr)")
        }
        let port = try freePort()
        arguments = arguments.map { argument in
            if argument == "/data" { return directory.appendingPathComponent("data").path }
            if argument.hasPrefix("/certs/") { return certificates + argument.dropFirst("/certs".count) }
            return argument
        }
        let portIndex = try #require(arguments.firstIndex(of: "--port"))
        arguments[portIndex + 1] = String(port)
        if let http = arguments.firstIndex(of: "--http_port") { arguments[http + 1] = String(try freePort()) }
        let server = ChildProcess(try BrokerEnvironment.natsServerBinary(), arguments + ["--addr", "127.0.0.1"])
        try server.start()
        defer { server.process.terminate() }
        try await server.waitForStderr(containing: "Server is ready", timeout: .seconds(60))

        var options = NATSOptions()
        options.servers = ["nats://127.0.0.1:\(port)"]
        if tls {
            options.tls = TLSConfiguration(trustRoots: .caFile(certificates + "/ca-cert.pem"))
        }
        let client = try await NATSClient.connect(options)
        let js = try JetStreamContext(client: client)
        let account = try await js.accountInfo()
        #expect(account.limits != nil, "JetStream answers with its limits")
        await client.close()
    }

    @Test func theNATSServiceRunsWithJetStream() async throws {
        try await runNATSService("nats", tls: false)
    }

    @Test func theTLSServiceRunsWithTheCertificatesFromMakeCerts() async throws {
        try await runNATSService("nats-tls", tls: true)
    }
}
