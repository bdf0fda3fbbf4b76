import Foundation
import SoakCore
import TributaryJetStream
import TributaryNATS
import Synchronization
import TributaryTestSupport

/// NATS options for soak clients: reconnect forever, quickly, to `url` (a server list).
func soakNATSOptions(_ url: String, name: String) -> NATSOptions {
    var options = NATSOptions(url: url)
    options.name = name
    options.maxReconnectAttempts = -1
    options.reconnectWait = .milliseconds(250)
    options.requestTimeout = .seconds(2)
    return options
}

/// Core NATS traffic: a publisher and a subscriber (`core-pubsub`), a requester and a responder
/// (`core-request`). At most once: gaps are reported, never failures. Returns the tasks.
func coreNATSTraffic(_ scenario: SoakScenario, run: SoakRun, publisher: NATSClient, subscriber: NATSClient,
                     subject: String) throws -> (ledgers: [LedgerBox], tasks: [Task<Void, Never>], subscriptions: [NATSSubscription]) {
    let pubsub = LedgerBox(scenario, "core-pubsub", .atMostOnce)
    let requests = LedgerBox(scenario, "core-request", .atMostOnce)
    let sub = try subscriber.subscribe(to: subject + ".msg")
    let service = try subscriber.subscribe(to: subject + ".req")
    var tasks: [Task<Void, Never>] = []
    tasks.append(Task {
        do { for try await message in sub { pubsub.received(payload: message.payload) } } catch {}
    })
    tasks.append(Task {
        do {
            for try await message in service {
                requests.received(payload: message.payload)
                try? subscriber.respond(to: message, with: message.payload)
            }
        } catch {}
    })
    tasks.append(Task {
        while run.trafficRunning {
            let id = pubsub.sent()
            do { try publisher.publish(LedgerBox.payload(id), to: subject + ".msg") } catch { pubsub.failed(id) }
            try? await Task.sleep(for: .milliseconds(5))
        }
    })
    tasks.append(Task {
        while run.trafficRunning {
            let id = requests.sent()
            do {
                let reply = try await publisher.request(LedgerBox.payload(id), to: subject + ".req", timeout: .seconds(1))
                if LedgerBox.id(in: reply.payload) == id { requests.acknowledged(id) } else { requests.failed(id) }
            } catch {
                requests.failed(id)
                try? await Task.sleep(for: .milliseconds(100))
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    })
    return ([pubsub, requests], tasks, [sub, service])
}

/// nats-server restart: one JetStream server, stopped (SIGTERM) and started again on its port
/// and store. Core traffic plus JetStream acknowledged publishes (with message ids, retried
/// under the same id) read by a durable pull consumer with explicit acks.
func runNATSRestart(run: SoakRun, faults: [SoakFault], log: @escaping @Sendable (String) -> Void) async throws -> [SoakRow] {
    let scenario = SoakScenario.natsRestart
    let server = try NATSServerProcess(jetStream: true)
    try await server.start()
    return try await withCleanup({ server.stop() }) {
        let publisher = try await NATSClient.connect(soakNATSOptions(server.url, name: "soak-pub"))
        let subscriber = try await NATSClient.connect(soakNATSOptions(server.url, name: "soak-sub"))
        let core = try coreNATSTraffic(scenario, run: run, publisher: publisher, subscriber: subscriber, subject: "soak.restart")

        let jetStream = LedgerBox(scenario, "jetstream", .atLeastOnce)
        let js = try JetStreamContext(client: publisher)
        let consumerJS = try JetStreamContext(client: subscriber)
        _ = try await js.createStream(StreamConfig(name: "SOAK", subjects: ["soak.js"], storage: .file, duplicateWindow: .seconds(120)))
        let consumer = try await consumerJS.createOrUpdateConsumer(stream: "SOAK", config: ConsumerConfig(
            durableName: "soak", ackPolicy: .explicit, ackWait: .seconds(5)))
        let stopConsumer = Stop()
        let publishTask = Task {
            while run.trafficRunning {
                let id = jetStream.sent()
                var attempt = 0
                while true {
                    do {
                        _ = try await js.publish(LedgerBox.payload(id), to: "soak.js",
                                                 options: JetStreamPublishOptions(messageID: "soak-\(id)"))
                        jetStream.acknowledged(id)
                        break
                    } catch {
                        attempt += 1
                        // Retried under the same message id: the stream stores it once.
                        if attempt >= 20 { jetStream.failed(id); break }
                        try? await Task.sleep(for: .milliseconds(250))
                    }
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        let consumeTask = Task {
            while !stopConsumer.isSet {
                do {
                    for message in try await consumer.fetch(200, expires: .seconds(1)) {
                        jetStream.received(payload: message.payload)
                        try? message.ack()
                    }
                } catch {
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
        }
        var faultCount = 0
        for fault in faults {
            await run.sleep(until: fault.at)
            log("\(scenario.rawValue): stopping nats-server for \(fault.hold)")
            await offPool { server.stop() }
            try? await Task.sleep(for: fault.hold)
            try await server.start()
            faultCount += 1
        }
        _ = faultCount
        await publishTask.value
        for task in core.tasks.suffix(2) { await task.value }
        await run.drain([jetStream])
        try? await Task.sleep(for: .seconds(1)) // the last core messages in flight
        stopConsumer.set()
        await consumeTask.value
        for sub in core.subscriptions { sub.unsubscribe() }
        await publisher.close()
        await subscriber.close()
        for task in core.tasks.prefix(2) { task.cancel() }
        return core.ledgers.map(\.summary) + [jetStream.summary]
    }
}

/// Cluster member loss: a three-node cluster; publisher and subscriber know every node. A
/// fault SIGKILLs one member (chosen by the schedule) and starts it again after the hold.
func runClusterMemberLoss(run: SoakRun, faults: [SoakFault], log: @escaping @Sendable (String) -> Void) async throws -> [SoakRow] {
    let scenario = SoakScenario.clusterMemberLoss
    let cluster = try NATSClusterProcess(size: 3)
    try await cluster.startAll()
    return try await withCleanup({ cluster.stopAll() }) {
        let publisher = try await NATSClient.connect(soakNATSOptions(cluster.url, name: "soak-cluster-pub"))
        let subscriber = try await NATSClient.connect(soakNATSOptions(cluster.urls.reversed().joined(separator: ","), name: "soak-cluster-sub"))
        let core = try coreNATSTraffic(scenario, run: run, publisher: publisher, subscriber: subscriber, subject: "soak.cluster")
        for fault in faults {
            await run.sleep(until: fault.at)
            let index = Int(fault.choice % 3)
            log("\(scenario.rawValue): killing member \(index) for \(fault.hold)")
            await offPool { cluster.kill(index) }
            try? await Task.sleep(for: fault.hold)
            try await cluster.restart(index)
        }
        for task in core.tasks.suffix(2) { await task.value }
        try? await Task.sleep(for: .seconds(1))
        for sub in core.subscriptions { sub.unsubscribe() }
        await publisher.close()
        await subscriber.close()
        for task in core.tasks.prefix(2) { task.cancel() }
        return core.ledgers.map(\.summary)
    }
}

/// Slow consumer: a subscription with a pending limit of 100 messages whose reader takes 1 ms
/// per message, a trickle of 100 messages a second, and at each fault a burst of 5,000. The
/// drops the client reports are counted; gaps beyond them are at-most-once losses.
func runSlowConsumer(run: SoakRun, faults: [SoakFault], log: @escaping @Sendable (String) -> Void) async throws -> [SoakRow] {
    let scenario = SoakScenario.slowConsumer
    let server = try NATSServerProcess()
    try await server.start()
    return try await withCleanup({ server.stop() }) {
        let publisher = try await NATSClient.connect(soakNATSOptions(server.url, name: "soak-slow-pub"))
        let subscriber = try await NATSClient.connect(soakNATSOptions(server.url, name: "soak-slow-sub"))
        let ledger = LedgerBox(scenario, "core-slow-sub", .atMostOnce)
        let sub = try subscriber.subscribe(to: "soak.slow", maxPendingMessages: 100)
        let reader = Task {
            do {
                for try await message in sub {
                    ledger.received(payload: message.payload)
                    try? await Task.sleep(for: .milliseconds(1))
                }
            } catch {}
        }
        let trickle = Task {
            while run.trafficRunning {
                let id = ledger.sent()
                do { try publisher.publish(LedgerBox.payload(id), to: "soak.slow") } catch { ledger.failed(id) }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        for fault in faults {
            await run.sleep(until: fault.at)
            log("\(scenario.rawValue): burst of 5000")
            for _ in 0..<5_000 {
                let id = ledger.sent()
                do { try publisher.publish(LedgerBox.payload(id), to: "soak.slow") } catch { ledger.failed(id) }
            }
            try? await publisher.flush()
        }
        await trickle.value
        try? await publisher.flush()
        // Let the reader empty its pending queue.
        let deadline = ContinuousClock.now + .seconds(10)
        while sub.pendingCount > 0, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(100)) }
        ledger.dropsReported(sub.droppedCount)
        sub.unsubscribe()
        reader.cancel()
        await publisher.close()
        await subscriber.close()
        return [ledger.summary]
    }
}

/// A flag set once, read from any task.
final class Stop: Sendable {
    private let flag = Mutex(false)
    var isSet: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}

/// A count shared by tasks.
final class Counter: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func add(_ n: Int) { value.withLock { $0 += n } }
}
