import Foundation
import SoakCore
import Synchronization
import TributaryKafka
import TributaryTestSupport

/// A Kafka client for soak traffic, bootstrapped at `bootstrap`.
func soakKafkaClient(_ bootstrap: String, id: String) async throws -> KafkaClient {
    var configuration = try KafkaClientConfiguration(bootstrapServers: bootstrap)
    configuration.clientID = id
    return try await KafkaClient.connect(configuration)
}

/// Creates `topic`, retrying while the broker is not reachable (after a restart).
func ensureTopic(_ client: KafkaClient, _ topic: String, partitions: Int32, until deadline: ContinuousClock.Instant) async throws {
    while true {
        do {
            try await client.createTopic(KafkaNewTopic(name: topic, partitions: partitions), ifNotExists: true)
            return
        } catch {
            if ContinuousClock.now >= deadline { throw error }
            try await Task.sleep(for: .milliseconds(250))
        }
    }
}

/// An idempotent producer (acks all) sending one record at a time and recording the
/// acknowledgements, until traffic ends.
func producerTask(_ client: KafkaClient, topic: String, ledger: LedgerBox, run: SoakRun) throws -> Task<Void, Never> {
    var settings = KafkaProducerConfiguration()
    settings.acks = .all
    settings.idempotence = .enabled
    settings.linger = .milliseconds(1)
    let producer = try client.makeProducer(settings)
    return Task {
        while run.trafficRunning {
            let id = ledger.sent()
            do {
                _ = try await producer.send(topic: topic, key: Array("k\(id % 16)".utf8), value: LedgerBox.payload(id))
                ledger.acknowledged(id)
            } catch {
                ledger.failed(id)
                try? await Task.sleep(for: .milliseconds(100))
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
        try? await producer.close()
    }
}

/// Settings of every soak group member.
func soakGroupConfiguration(group: String, topic: String) -> KafkaGroupConsumerConfiguration {
    var settings = KafkaGroupConsumerConfiguration(groupID: group, topics: [topic])
    settings.sessionTimeout = .seconds(6)
    settings.heartbeatInterval = .seconds(1)
    if settings.rebalanceTimeout < settings.sessionTimeout { settings.rebalanceTimeout = settings.sessionTimeout }
    settings.autoOffsetReset = .earliest
    return settings
}

/// One group member polling, recording, marking processed and committing until `stop`.
func memberTask(_ member: KafkaGroupConsumer, ledger: LedgerBox, stop: Stop, errors: Counter) -> Task<Void, Never> {
    Task {
        while !stop.isSet {
            do {
                let records = try await member.poll(maxRecords: 500, timeout: .milliseconds(500))
                for record in records {
                    ledger.received(payload: record.value ?? [])
                    member.markProcessed(record)
                }
                if !records.isEmpty { try await member.commit() }
            } catch {
                errors.add(1)
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        await member.close()
    }
}

/// Kafka traffic through a fault proxy: a fault cuts every connection after a few bytes for
/// the hold (new connections too), then lets traffic through again.
func runKafkaPartition(run: SoakRun, faults: [SoakFault], log: @escaping @Sendable (String) -> Void) async throws -> [SoakRow] {
    let scenario = SoakScenario.kafkaPartition
    let proxyPort = try freePort()
    let broker = try TansuBroker(advertisedPort: proxyPort)
    try await broker.start()
    return try await withCleanup({ broker.kill() }) {
        let proxy = try FaultProxy(port: proxyPort, upstreamPort: broker.port)
        defer { proxy.stop() }
        defer { log("\(scenario.rawValue): the proxy accepted \(proxy.connections) connection(s) and cut \(proxy.cuts)") }
        return try await kafkaTraffic(scenario, bootstrap: broker.bootstrap, partitions: 3, run: run, faults: faults, log: log) { fault, _ in
            log("\(scenario.rawValue): cutting connections for \(fault.hold)")
            let every = 1 + Int(fault.choice % 200)
            proxy.cutClient(every: every)
            proxy.cutServer(every: every)
            try? await Task.sleep(for: fault.hold)
            proxy.cutClient(every: nil)
            proxy.cutServer(every: nil)
        }
    }
}

/// Kafka broker restart: tansu is killed and started again on its port. Its memory storage is
/// gone: records acknowledged and not yet consumed at that moment are counted as wiped.
func runKafkaRestart(run: SoakRun, faults: [SoakFault], log: @escaping @Sendable (String) -> Void) async throws -> [SoakRow] {
    let scenario = SoakScenario.kafkaRestart
    let broker = try TansuBroker()
    try await broker.start()
    return try await withCleanup({ broker.kill() }) {
        return try await kafkaTraffic(scenario, bootstrap: broker.bootstrap, partitions: 3, run: run, faults: faults, log: log) { fault, context in
            log("\(scenario.rawValue): killing tansu for \(fault.hold)")
            await offPool { broker.kill() }
            // Acknowledgements already on their way are recorded before the wipe is.
            try? await Task.sleep(for: .milliseconds(300))
            context.ledger.brokerWiped()
            try? await Task.sleep(for: fault.hold)
            do {
                try await broker.start()
                try await ensureTopic(context.admin, context.topic, partitions: 3, until: .now + .seconds(30))
            } catch {
                log("\(scenario.rawValue): restart failed: \(error)")
            }
        }
    }
}

/// Rebalance storm: one steady member; each fault adds one to three members for the hold,
/// then closes them (they leave the group).
func runRebalanceStorm(run: SoakRun, faults: [SoakFault], log: @escaping @Sendable (String) -> Void) async throws -> [SoakRow] {
    let scenario = SoakScenario.rebalanceStorm
    let broker = try TansuBroker()
    try await broker.start()
    return try await withCleanup({ broker.kill() }) {
        return try await kafkaTraffic(scenario, bootstrap: broker.bootstrap, partitions: 4, run: run, faults: faults, log: log) { fault, context in
            let count = 1 + Int(fault.choice % 3)
            log("\(scenario.rawValue): \(count) member(s) join for \(fault.hold)")
            let stop = Stop()
            var tasks: [Task<Void, Never>] = []
            for _ in 0..<count {
                guard let member = try? context.consumerClient.makeGroupConsumer(soakGroupConfiguration(group: context.group, topic: context.topic)) else { continue }
                tasks.append(memberTask(member, ledger: context.ledger, stop: stop, errors: context.errors))
            }
            try? await Task.sleep(for: fault.hold)
            stop.set()
            for task in tasks { await task.value }
        }
    }
}

/// What a fault action may use.
struct KafkaContext: Sendable {
    let ledger: LedgerBox
    let admin: KafkaClient
    let consumerClient: KafkaClient
    let topic: String
    let group: String
    let errors: Counter
}


/// The Kafka traffic of a scenario: topic, an idempotent producer and a one-member group, the
/// fault loop, then the drain.
func kafkaTraffic(_ scenario: SoakScenario, bootstrap: String, partitions: Int32, run: SoakRun, faults: [SoakFault],
                  log: @escaping @Sendable (String) -> Void, fault action: @escaping @Sendable (SoakFault, KafkaContext) async -> Void) async throws -> [SoakRow] {
    let topic = "soak-\(scenario.rawValue)"
    let group = "soak-\(scenario.rawValue)-group"
    let admin = try await soakKafkaClient(bootstrap, id: "soak-admin")
    defer { admin.close() }
    try await ensureTopic(admin, topic, partitions: partitions, until: .now + .seconds(30))
    let producerClient = try await soakKafkaClient(bootstrap, id: "soak-producer")
    defer { producerClient.close() }
    let consumerClient = try await soakKafkaClient(bootstrap, id: "soak-consumer")
    defer { consumerClient.close() }
    let ledger = LedgerBox(scenario, "kafka-group", .atLeastOnce)
    let errors = Counter()
    let context = KafkaContext(ledger: ledger, admin: admin, consumerClient: consumerClient, topic: topic, group: group, errors: errors)
    let stop = Stop()
    let member = try consumerClient.makeGroupConsumer(soakGroupConfiguration(group: group, topic: topic))
    let consuming = memberTask(member, ledger: ledger, stop: stop, errors: errors)
    let producing = try producerTask(producerClient, topic: topic, ledger: ledger, run: run)
    for fault in faults {
        await run.sleep(until: fault.at)
        await action(fault, context)
    }
    await producing.value
    await run.drain([ledger])
    stop.set()
    await consuming.value
    log("\(scenario.rawValue): group members met \(errors.count) error(s) polling or committing (retried)")
    return [ledger.summary]
}
