import Foundation
import Synchronization
import Testing
import TributaryKafka
import TributaryKafkaProtocol
import TributaryTestSupport

/// Connections cut in the middle of frames, by a proxy in front of a private tansu that
/// advertises the proxy's port (so every connection the client makes goes through it).
@Suite("Kafka faults: connections cut mid-frame", .serialized)
struct KafkaFaultTests {
    struct Setup {
        let tansu: TansuProcess
        let proxy: FaultProxy
        let client: KafkaClient
        var tlsRelay: TLSFrontProcess? = nil

        func stop() {
            client.close()
            proxy.stop()
            tlsRelay?.stop()
            tansu.stop()
        }
    }

    /// With `tls`, the proxy cuts TLS connections: client → proxy → TLS relay → tansu.
    static func setUp(tls: Bool = false) async throws -> Setup {
        let proxyPort = try freePort()
        let tansu = try await TansuProcess(advertisedPort: proxyPort)
        var relay: TLSFrontProcess?
        var tlsConfiguration: TLSConfiguration?
        if tls {
            let certificates = try await TestCertificates.make()
            relay = try await TLSFrontProcess(upstreamPort: tansu.port, certificate: certificates.serverCertificate, key: certificates.serverKey)
            tlsConfiguration = TLSConfiguration(trustRoots: .caFile(certificates.caFile))
        }
        let proxy = try FaultProxy(port: proxyPort, upstreamPort: relay?.port ?? tansu.port)
        var configuration = try KafkaClientConfiguration(bootstrapServers: "127.0.0.1:\(proxyPort)")
        if let tlsConfiguration {
            configuration.securityProtocol = .ssl
            configuration.tls = tlsConfiguration
        }
        configuration.requestTimeout = .seconds(5)
        configuration.retryBackoff = .milliseconds(20)
        configuration.retryBackoffMax = .milliseconds(200)
        configuration.connectTimeout = .seconds(2)
        let client = try await KafkaClient.connect(configuration)
        return Setup(tansu: tansu, proxy: proxy, client: client, tlsRelay: relay)
    }

    static let total = 20_000
    static func value(_ index: Int) -> [UInt8] {
        Array("seq-\(index)-".utf8) + Array(repeating: UInt8(ascii: "."), count: 90)
    }
    static func index(of value: [UInt8]?) -> Int? {
        guard let value else { return nil }
        let text = String(decoding: value, as: UTF8.self)
        let parts = text.split(separator: "-")
        return parts.count >= 2 ? Int(parts[1]) : nil
    }

    /// Produces `total` keyed records with acks=all; returns the acknowledged indices.
    static func produceAll(_ setup: Setup, topic: String, idempotence: KafkaIdempotence = .automatic) async throws -> (acked: Set<Int>, failures: [String], statistics: KafkaProducerStatistics) {
        var configuration = KafkaProducerConfiguration()
        configuration.acks = .all
        configuration.idempotence = idempotence
        configuration.batchSize = 16 * 1024
        configuration.linger = .milliseconds(2)
        configuration.deliveryTimeout = .seconds(90)
        let producer = try setup.client.makeProducer(configuration)
        let outcome = DeliveryLedger()
        for index in 0..<total {
            try await producer.produce(topic: topic, key: Array("order-\(index % 40)".utf8), value: value(index)) { outcome.record(index, $0) }
        }
        try await producer.flush()
        try await producer.close()
        let final = outcome.snapshot
        return (final.acked, final.failures, producer.statistics)
    }

    /// Every record of `topic` from offset 0, read until each partition is at its end.
    static func consumeAll(_ client: KafkaClient, topic: String, partitions: Int32, atLeast: Int) async throws -> [KafkaConsumerRecord] {
        var configuration = KafkaConsumerConfiguration()
        configuration.fetchMaxWait = .milliseconds(100)
        configuration.maxPartitionFetchBytes = 16 * 1024  // responses of about 50 KB: several per connection between cuts
        configuration.fetchMaxBytes = 48 * 1024
        let consumer = try client.makeConsumer(configuration)
        defer { consumer.close() }
        for partition in 0..<partitions { try await consumer.assign(topic: topic, partition: partition, from: .earliest) }
        var records: [KafkaConsumerRecord] = []
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            records += try await consumer.poll(maxRecords: 5000, timeout: .milliseconds(300))
            let done = (0..<partitions).allSatisfy { consumer.isAtEnd(topic: topic, partition: $0) }
            if done && records.count >= atLeast { break }
        }
        return records
    }

    /// The idempotent producer (the default) against connections cut mid-frame, in plaintext and
    /// over TLS, and the producer without idempotence, whose retries may store batches twice:
    /// those duplicates must stay within what it counted as possible.
    @Test(arguments: [(false, KafkaIdempotence.automatic), (true, .automatic), (false, .disabled)])
    func producerRetriesAndLosesNothingWithAcksAll(tls: Bool, idempotence: KafkaIdempotence) async throws {
        let setup = try await Self.setUp(tls: tls)
        defer { setup.stop() }
        let topic = "faults-produce\(tls ? "-tls" : "")-\(idempotence)"
        try await setup.client.createTopic(KafkaNewTopic(name: topic, partitions: 3))
        _ = try await setup.client.describeTopic(topic)

        setup.proxy.cutClient(every: 120_000)
        let (acked, failures, statistics) = try await Self.produceAll(setup, topic: topic, idempotence: idempotence)
        setup.proxy.cutClient(every: nil)
        #expect(setup.proxy.cuts > 0, "the proxy never cut a connection")
        #expect(failures.isEmpty, "failed deliveries: \(failures.prefix(3))")
        #expect(acked.count == Self.total)

        let records = try await Self.consumeAll(setup.client, topic: topic, partitions: 3, atLeast: acked.count)
        let seen = records.compactMap { Self.index(of: $0.value) }
        let unique = Set(seen)
        let lost = acked.subtracting(unique)
        let duplicates = seen.count - unique.count
        print("kafka fault test\(tls ? " over TLS" : ""), idempotence \(idempotence): \(setup.proxy.cuts) cuts, \(acked.count) acknowledged, \(lost.count) lost, \(duplicates) duplicates from retries (producer flagged \(statistics.possiblyDuplicatedRecords) as possibly duplicated, \(statistics.retriedBatches) batches retried, \(statistics.recognisedDuplicates) retried batches recognised by the broker as written, producer id \(statistics.producerID.map(String.init) ?? "none"), \(statistics.sequenceResets) sequence resets)")
        #expect((statistics.producerID != nil) == (idempotence != .disabled), "producer id: \(String(describing: statistics.producerID))")
        #expect(lost.isEmpty, "\(lost.count) acknowledged records are not in the log, e.g. \(lost.sorted().prefix(5))")
        #expect(duplicates <= statistics.possiblyDuplicatedRecords, "more duplicates than the producer reported as possible")

        // Records of one key keep their order: first occurrences increase.
        var firstSeen: [String: [Int]] = [:]
        var counted = Set<Int>()
        for record in records.sorted(by: { ($0.partition, $0.offset) < ($1.partition, $1.offset) }) {
            guard let index = Self.index(of: record.value), counted.insert(index).inserted else { continue }
            firstSeen[String(decoding: record.key ?? [], as: UTF8.self), default: []].append(index)
        }
        for (key, indices) in firstSeen {
            #expect(indices == indices.sorted(), "records of \(key) are out of order")
        }
    }

    @Test func consumerResumesAtTheRightOffsetWithNoGap() async throws {
        let setup = try await Self.setUp()
        defer { setup.stop() }
        let topic = "faults-consume"
        try await setup.client.createTopic(KafkaNewTopic(name: topic, partitions: 3))
        _ = try await setup.client.describeTopic(topic)
        let (acked, failures, _) = try await Self.produceAll(setup, topic: topic)
        #expect(failures.isEmpty)

        setup.proxy.cutServer(every: 150_000)
        let records = try await Self.consumeAll(setup.client, topic: topic, partitions: 3, atLeast: acked.count)
        setup.proxy.cutServer(every: nil)
        #expect(setup.proxy.cuts > 0, "the proxy never cut a connection")
        #expect(records.count == acked.count)
        for partition in Int32(0)..<3 {
            let offsets = records.filter { $0.partition == partition }.map(\.offset)
            #expect(offsets == Array(0..<Int64(offsets.count)), "partition \(partition): a gap or a repeat after a cut")
        }
        #expect(Set(records.compactMap { Self.index(of: $0.value) }) == acked)
    }
}
