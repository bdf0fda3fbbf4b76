import Foundation
import Synchronization
import Testing
import TributaryKafka
import TributaryTestSupport

/// Tributary's Kafka client against a broker that requires SASL: PLAIN, SCRAM-SHA-256 and
/// SCRAM-SHA-512, wrong credentials, a mechanism the broker does not offer, and re-authentication
/// before the session ends (KIP-368).
///
/// The broker is tansu 0.6.0 behind `Tests/Support/sasl_front.py` (see `KafkaSASLBroker`), or
/// your own SASL broker given by `KAFKA_BROKERS` and `KAFKA_SASL_MECHANISM`,
/// `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD`.
///
/// tansu 0.6.0 deviations that the front works around (measured on this machine):
/// - `tansu broker --authentication` accepts the SCRAM-SHA-256/512 handshake, but its storage
///   never keeps the credentials `tansu user create` makes, so every SCRAM login fails as an
///   unknown user; a PLAIN login makes it close the connection without an answer.
/// - Without `--authentication`, tansu still lists SaslHandshake 0-1 and SaslAuthenticate 0-2 in
///   its ApiVersions response, so the front forwards ApiVersions unchanged.
/// - tansu has no session lifetime (`connections.max.reauth.ms`); the front gives one and closes
///   connections that send a request after it ended, as Kafka does.
@Suite("Kafka SASL conformance", .serialized)
struct KafkaSASLConformanceTests {
    static func mechanismArguments() -> [String] {
        if let mechanism = ProcessInfo.processInfo.environment["KAFKA_SASL_MECHANISM"], !mechanism.isEmpty { return [mechanism.uppercased()] }
        return KafkaSASLBroker.allMechanisms
    }

    static func configuration(_ broker: KafkaSASLBroker, mechanism: String, username: String? = nil, password: String? = nil) throws -> KafkaClientConfiguration {
        var configuration = try KafkaClientConfiguration(bootstrapServers: broker.bootstrap)
        configuration.securityProtocol = .saslPlaintext
        let chosen = try #require(KafkaSASL.Mechanism(name: mechanism))
        configuration.sasl = KafkaSASL(mechanism: chosen, username: username ?? broker.username, password: password ?? broker.password)
        configuration.requestTimeout = .seconds(15)
        return configuration
    }

    /// Produces `count` records to a fresh topic and reads them back.
    static func roundTrip(_ client: KafkaClient, count: Int, prefix: String) async throws {
        let topic = "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 2))
        let producer = try client.makeProducer()
        var placed: [Int32: Int] = [:]
        for index in 0..<count {
            let metadata = try await producer.send(topic: topic, key: "k\(index % 7)", value: "v\(index)")
            placed[metadata.partition, default: 0] += 1
        }
        try await producer.close()
        var configuration = KafkaConsumerConfiguration()
        configuration.fetchMaxWait = .milliseconds(100)
        let consumer = try client.makeConsumer(configuration)
        defer { consumer.close() }
        for partition in Int32(0)..<2 { try await consumer.assign(topic: topic, partition: partition, from: .earliest) }
        var values: [String] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while values.count < count && ContinuousClock.now < deadline {
            values += try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(500)).compactMap(\.valueString)
        }
        #expect(Set(values) == Set((0..<count).map { "v\($0)" }), "read \(values.count) of \(count)")
        try await client.deleteTopics([topic])
    }

    @Test(arguments: mechanismArguments())
    func producesAndConsumesAfterAuthenticating(mechanism: String) async throws {
        let broker = try await KafkaSASLBroker.shared()
        defer { broker.stop() }
        let client = try await KafkaClient.connect(try Self.configuration(broker, mechanism: mechanism))
        defer { client.close() }
        try await Self.roundTrip(client, count: 40, prefix: "sasl-\(mechanism.lowercased())")
        if !broker.isExternal {
            #expect(broker.count("authenticated user=alice mechanism=\(mechanism) ") >= 1, "\(broker.logs())")
            #expect(broker.count("authentication failed") == 0, "\(broker.logs())")
        }
    }

    @Test(arguments: KafkaSASLBroker.allMechanisms)
    func aUserNameWithCommaAndEqualsSignAuthenticates(mechanism: String) async throws {
        let broker = try await KafkaSASLBroker()
        defer { broker.stop() }
        let name = "bob,ops=1"
        let client = try await KafkaClient.connect(try Self.configuration(broker, mechanism: mechanism, username: name, password: KafkaSASLBroker.users[name]))
        defer { client.close() }
        _ = try await client.listTopics()
        #expect(broker.count("authenticated user=\(name) mechanism=\(mechanism) ") >= 1, "\(broker.logs())")
    }

    /// Connects with `configuration` and returns the error, which must come quickly: wrong
    /// credentials are not retried until the operation deadline.
    static func connectError(_ configuration: KafkaClientConfiguration) async -> KafkaError? {
        let started = ContinuousClock.now
        do {
            let client = try await KafkaClient.connect(configuration)
            client.close()
            return nil
        } catch {
            #expect(ContinuousClock.now - started < .seconds(10), "the failure took \(ContinuousClock.now - started): it was retried")
            return error
        }
    }

    @Test(arguments: mechanismArguments())
    func aWrongPasswordFailsWithATypedNonRetriableError(mechanism: String) async throws {
        let broker = try await KafkaSASLBroker.shared()
        defer { broker.stop() }
        let error = try #require(await Self.connectError(try Self.configuration(broker, mechanism: mechanism, password: "not-the-password")))
        #expect(error.code == .authenticationFailed, "\(error)")
        #expect(!error.isRetriable)
        #expect(error.brokerErrorCode == .saslAuthenticationFailed, "\(error)")
        #expect(error.message.contains("SASL_AUTHENTICATION_FAILED (58)"), "\(error.message)")
        #expect(error.message.contains("KafkaClientConfiguration.sasl"), "\(error.message)")
        #expect(error.message.contains(mechanism), "\(error.message)")
    }

    @Test(arguments: KafkaSASLBroker.allMechanisms)
    func anUnknownUserFails(mechanism: String) async throws {
        let broker = try await KafkaSASLBroker()
        defer { broker.stop() }
        let error = try #require(await Self.connectError(try Self.configuration(broker, mechanism: mechanism, username: "mallory", password: "guess")))
        #expect(error.code == .authenticationFailed, "\(error)")
        #expect(!error.isRetriable)
        #expect(error.message.contains("\"mallory\""), "\(error.message)")
    }

    @Test func aMechanismTheBrokerDoesNotOfferNamesTheOffered() async throws {
        let broker = try await KafkaSASLBroker(mechanisms: ["PLAIN", "SCRAM-SHA-256"])
        defer { broker.stop() }
        let error = try #require(await Self.connectError(try Self.configuration(broker, mechanism: "SCRAM-SHA-512")))
        #expect(error.code == .unsupportedSASLMechanism, "\(error)")
        #expect(!error.isRetriable)
        #expect(error.message.contains("does not enable SASL mechanism SCRAM-SHA-512; it offers PLAIN, SCRAM-SHA-256"), "\(error.message)")
        #expect(broker.count("unsupported mechanism SCRAM-SHA-512") >= 1, "\(broker.logs())")
    }

    @Test func aPlaintextClientAgainstTheSASLListenerIsRefused() async throws {
        let broker = try await KafkaSASLBroker()
        defer { broker.stop() }
        var configuration = try KafkaClientConfiguration(bootstrapServers: broker.bootstrap)
        configuration.operationTimeout = .seconds(2)
        let error = try #require(await Self.connectError(configuration))
        #expect(error.code == .connectionFailed || error.code == .connectionLost, "\(error)")
        #expect(broker.count("before authentication: closing") >= 1, "\(broker.logs())")
    }

    /// Every error text a failed login produces, for every mechanism, checked for the password.
    @Test func noErrorTextContainsThePassword() async throws {
        let broker = try await KafkaSASLBroker(mechanisms: ["PLAIN", "SCRAM-SHA-256"])
        defer { broker.stop() }
        let secrets = ["Wr0ng-Pa55word-xyz", broker.password]
        var errors: [KafkaError] = []
        for mechanism in KafkaSASLBroker.allMechanisms {
            for (user, password) in [(broker.username, secrets[0]), ("mallory", secrets[0]), (broker.username, broker.password)] {
                var configuration = try Self.configuration(broker, mechanism: mechanism, username: user, password: password)
                configuration.operationTimeout = .seconds(3)
                if let error = await Self.connectError(configuration) { errors.append(error) }
            }
        }
        // Wrong password and unknown user for the two offered mechanisms, three logins with an
        // unoffered mechanism; the two correct logins succeed.
        #expect(errors.count == 7, "\(errors)")
        for error in errors {
            var texts = [error.description, error.message, String(reflecting: error), "\(error.underlying.map { "\($0)" } ?? "")"]
            var dumped = ""
            dump(error, to: &dumped)
            texts.append(dumped)
            for text in texts {
                for secret in secrets { #expect(!text.contains(secret), "the password appears in: \(text)") }
            }
        }
    }

    /// The front gives 2-second sessions and closes a connection whose next request comes after
    /// its session ended. Producing and consuming for more than three lifetimes must lose
    /// nothing and never hit the closing rule.
    @Test(arguments: ["SCRAM-SHA-512", "PLAIN"])
    func reauthenticatesBeforeTheSessionEnds(mechanism: String) async throws {
        let broker = try await KafkaSASLBroker(sessionLifetimeMs: 2000)
        defer { broker.stop() }
        let client = try await KafkaClient.connect(try Self.configuration(broker, mechanism: mechanism))
        defer { client.close() }
        let topic = "sasl-reauth-\(UInt32.random(in: 0...UInt32.max))"
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: 2))
        let producer = try client.makeProducer()
        var sent: [String] = []
        let end = ContinuousClock.now + .seconds(7)
        var index = 0
        while ContinuousClock.now < end {
            let value = "r\(index)"
            _ = try await producer.send(topic: topic, key: "k\(index % 5)", value: value)
            sent.append(value)
            index += 1
            try await Task.sleep(for: .milliseconds(20))
        }
        try await producer.close()
        var configuration = KafkaConsumerConfiguration()
        configuration.fetchMaxWait = .milliseconds(200)
        let consumer = try client.makeConsumer(configuration)
        defer { consumer.close() }
        for partition in Int32(0)..<2 { try await consumer.assign(topic: topic, partition: partition, from: .earliest) }
        var values: [String] = []
        let readDeadline = ContinuousClock.now + .seconds(30)
        // Reading also spans a session boundary: the consumer keeps polling 2.5 s past the end.
        var doneAt: ContinuousClock.Instant?
        while ContinuousClock.now < readDeadline {
            values += try await consumer.poll(maxRecords: 500, timeout: .milliseconds(300)).compactMap(\.valueString)
            if values.count >= sent.count, doneAt == nil { doneAt = ContinuousClock.now }
            if let doneAt, ContinuousClock.now - doneAt > .milliseconds(2500) { break }
        }
        #expect(values.count == sent.count, "read \(values.count) of \(sent.count) records")
        #expect(Set(values) == Set(sent))
        #expect(broker.count("session expired") == 0, "\(broker.logs())")
        #expect(broker.count("mechanism=\(mechanism) (reauthentication=yes)") >= 3, "\(broker.logs())")
        #expect(broker.count("authentication failed") == 0, "\(broker.logs())")
        try await client.deleteTopics([topic])
    }
}

/// A stream that, like a TLS stream, must be used from one thread only
/// (`allowsConcurrentWrite == false`): it records any operation from another thread than the one
/// that opened it.
final class SingleThreadStream: TransportStream {
    private let inner: any TransportStream
    // pthread_t is a plain integer on Linux; it is only compared.
    private let owner = UInt(pthread_self())
    let log: KafkaStreamLog

    init(_ inner: any TransportStream, log: KafkaStreamLog) {
        self.inner = inner
        self.log = log
    }

    private func check(_ operation: String) {
        if UInt(pthread_self()) != owner { log.violation(operation) }
    }

    var descriptor: Int32 { inner.descriptor }
    var peerAddress: String { inner.peerAddress }
    var allowsConcurrentWrite: Bool { false }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> TCPSocket.IOResult {
        check("read")
        return try inner.read(into: buffer)
    }
    func write(_ buffer: UnsafeRawBufferPointer) throws(TransportError) -> TCPSocket.IOResult {
        check("write")
        return try inner.write(buffer)
    }
    func shutdown() { check("shutdown"); inner.shutdown() }
    func close() { check("close"); inner.close() }
}

/// What the streams of ``SingleThreadStream`` saw.
final class KafkaStreamLog: Sendable {
    private let state = Mutex((opened: 0, violations: [String]()))
    func opened() { state.withLock { $0.opened += 1 } }
    func violation(_ operation: String) { state.withLock { $0.violations.append(operation) } }
    var openedCount: Int { state.withLock { $0.opened } }
    var violations: [String] { state.withLock { $0.violations } }
}

@Suite("Kafka connections on a TransportStream", .serialized)
struct KafkaTransportStreamConformanceTests {
    /// Every connection opens its stream through the configured factory and uses it from its own
    /// I/O thread only, SASL exchange and re-authentication included, as a TLS stream needs.
    @Test func aSingleThreadStreamIsOnlyTouchedByItsIOThread() async throws {
        // 5-second sessions: the client re-authenticates at 85-95 % of a session, and a 1.5-second
        // one left it 75-225 ms, which a loaded two-core CI run overran once.
        let broker = try await KafkaSASLBroker(sessionLifetimeMs: 5000)
        defer { broker.stop() }
        let log = KafkaStreamLog()
        var configuration = try KafkaSASLConformanceTests.configuration(broker, mechanism: "SCRAM-SHA-256")
        configuration.streamFactory = { (host, port, timeout) throws(TransportError) -> any TransportStream in
            let stream = SingleThreadStream(try SocketStream.tcp(host, port, timeout), log: log)
            log.opened()
            return stream
        }
        let client = try await KafkaClient.connect(configuration)
        try await KafkaSASLConformanceTests.roundTrip(client, count: 30, prefix: "stream-factory")
        try await Task.sleep(for: .seconds(5.5))    // past one session: a re-authentication ran
        _ = try await client.listTopics()
        client.close()
        try await Task.sleep(for: .milliseconds(300))   // the I/O threads close their streams
        #expect(log.openedCount >= 2, "connections opened: \(log.openedCount)")
        #expect(log.violations.isEmpty, "operations off the I/O thread: \(log.violations)")
        #expect(broker.count("(reauthentication=yes)") >= 1, "\(broker.logs())")
    }
}
