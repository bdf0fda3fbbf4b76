import TributaryWire
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Kafka-protocol broker that requires SASL, for the SASL conformance and interop tests.
///
/// By default a private tansu (memory storage) behind `Tests/Support/sasl_front.py`, a SASL front
/// whose SCRAM server side is the PyPI package `scramp`: tansu 0.6.0 cannot authenticate SCRAM
/// users itself (it never stores credentials) and closes PLAIN connections. tansu advertises the
/// front's port, so every connection a client opens goes through the front. Both processes are
/// stopped by PID in ``stop()``.
///
/// Against your own SASL broker: set `KAFKA_SASL_MECHANISM` (PLAIN, SCRAM-SHA-256 or
/// SCRAM-SHA-512), `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD` and `KAFKA_BROKERS`;
/// ``shared()`` then returns that broker with its one mechanism instead of starting a front.
/// Tests that need the front's own settings (a short session lifetime, a mechanism it does not
/// offer) always start a front.
public final class KafkaSASLBroker: Sendable {
    /// The users the front knows, name → password.
    public static let users: [String: String] = ["alice": "alice-Secret-7Q2w", "bob,ops=1": "bob-Secret-9Z"]
    /// The user-and-password mechanisms the front offers.
    public static let allMechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
    /// The mechanisms the front offers unless told otherwise: ``allMechanisms`` and OAUTHBEARER.
    public static let frontMechanisms = allMechanisms + ["OAUTHBEARER"]
    /// The principals (`sub` claims of unsecured JWTs) the front accepts with OAUTHBEARER.
    public static let oauthPrincipals = ["alice", "svc-orders"]

    /// `host:port` to bootstrap from (the SASL front itself).
    public let bootstrap: String
    /// The SASL front's port.
    public var frontPort: Int { Int(bootstrap.split(separator: ":").last ?? "") ?? 0 }
    /// The mechanisms the broker offers.
    public let mechanisms: [String]
    /// A user the broker knows.
    public let username: String
    /// That user's password.
    public let password: String
    /// Whether this is a broker from the environment (nothing started here).
    public let isExternal: Bool
    private let tansu: TansuProcess?
    private let front: Locked<Subprocess?>
    private let logPath: String?

    /// The SASL broker from the environment when `KAFKA_SASL_MECHANISM` is set, else a fresh
    /// front with every mechanism.
    public static func shared() async throws -> KafkaSASLBroker {
        let environment = ProcessInfo.processInfo.environment
        if let mechanism = environment["KAFKA_SASL_MECHANISM"], !mechanism.isEmpty {
            guard let brokers = environment["KAFKA_BROKERS"], !brokers.isEmpty,
                  let user = environment["KAFKA_SASL_USERNAME"], let password = environment["KAFKA_SASL_PASSWORD"] else {
                throw BrokerEnvironmentError("KAFKA_SASL_MECHANISM is set: also set KAFKA_BROKERS, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
            }
            return KafkaSASLBroker(external: brokers, mechanism: mechanism.uppercased(), username: user, password: password)
        }
        return try await KafkaSASLBroker()
    }

    private init(external brokers: String, mechanism: String, username: String, password: String) {
        bootstrap = brokers
        mechanisms = [mechanism]
        self.username = username
        self.password = password
        isExternal = true
        tansu = nil
        front = Locked(nil)
        logPath = nil
    }

    /// Starts tansu and a SASL front offering `mechanisms` (OAUTHBEARER accepts unsecured JWTs
    /// for `oauthPrincipals`); sessions last `sessionLifetimeMs` (0: no limit; with OAUTHBEARER
    /// at most until the token expires), after which the front closes connections that did not
    /// re-authenticate.
    /// With `advertisedPort`, tansu advertises that port instead of the front's (a TLS relay in
    /// front of the SASL front, for `SASL_SSL`).
    public init(mechanisms: [String] = KafkaSASLBroker.frontMechanisms, oauthPrincipals: [String] = KafkaSASLBroker.oauthPrincipals,
                sessionLifetimeMs: Int = 0, advertisedPort: Int? = nil, timeout: Duration = .seconds(20)) async throws {
        let frontPort = try freePort()
        let tansu = try await TansuProcess(advertisedPort: advertisedPort ?? frontPort)
        let python = try BrokerEnvironment.pythonExecutable()
        let script = BrokerEnvironment.repoRoot().appendingPathComponent("Tests/Support/sasl_front.py").path
        let logPath = NSTemporaryDirectory() + "sasl-front-\(frontPort).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Subprocess()
        process.executableURL = URL(fileURLWithPath: python)
        var arguments = [script, "--listen", "\(frontPort)", "--upstream", "\(tansu.port)",
                         "--mechanisms", mechanisms.joined(separator: ","), "--session-lifetime-ms", "\(sessionLifetimeMs)"]
        for (name, password) in Self.users.sorted(by: { $0.key < $1.key }) { arguments += ["--user", "\(name):\(password)"] }
        for principal in oauthPrincipals { arguments += ["--oauth-principal", principal] }
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: logPath)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        do {
            try process.run()
        } catch {
            tansu.stop()
            throw error
        }
        self.bootstrap = "127.0.0.1:\(frontPort)"
        self.mechanisms = mechanisms
        self.username = "alice"
        self.password = Self.users["alice"] ?? ""
        self.isExternal = false
        self.tansu = tansu
        self.front = Locked(process)
        self.logPath = logPath
        let deadline = ContinuousClock.now + timeout
        while !logs().contains("front: listening on") || !BrokerSocket.canConnect(port: frontPort) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                let text = logs()
                stop()
                throw BrokerEnvironmentError("the SASL front did not start on 127.0.0.1:\(frontPort) (is scramp installed? run Tools/brokers.sh install); log \(logPath):\n\(text)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The front's log: one `front: …` line per connection event (empty for an external broker).
    public func logs() -> String {
        guard let logPath else { return "" }
        return (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// How many lines of the front's log contain `text`.
    public func count(_ text: String) -> Int {
        logs().split(separator: "\n").filter { $0.contains(text) }.count
    }

    /// tansu's log, for failure messages.
    public func brokerLogs() -> String { tansu?.logs() ?? "" }

    /// Stops the front and tansu, by PID. Idempotent.
    public func stop() {
        let process = front.withLock { current -> Subprocess? in
            defer { current = nil }
            return current
        }
        if let process, process.isRunning {
            process.terminate()
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning && ContinuousClock.now < deadline { usleep(10_000) }
            if process.isRunning { process.signal(SIGKILL) }
            process.waitUntilExit()
        }
        tansu?.stop()
    }

    deinit { stop() }
}
