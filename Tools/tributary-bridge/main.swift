// tributary-bridge CONFIG: runs the NATS-Kafka bridge a JSON file describes. Parsing and the
// configuration live in BridgeToolSupport; this file drives the clients and the signals.
import BridgeToolSupport
import Dispatch
import Foundation
import Synchronization
import ToolSupport
import TributaryBridge
import TributaryKafka
import TributaryNATS

let command = Tool.parseCommandLine(BridgeServiceCommand.self)
let tool = Tool(name: BridgeServiceCommand.spec.name)
let configuration = command.configuration

if command.checkOnly {
    for line in configuration.plan { StandardStreams.writeOutput(Array((line + "\n").utf8)) }
    exit(ToolExitCode.success.rawValue)
}

/// Signals: the first SIGINT/SIGTERM drains, a second exits at once; SIGUSR1 prints the status.
final class Signals: Sendable {
    private let queue = DispatchQueue(label: "tributary-bridge.signals")
    private let state = Mutex<(sources: [any DispatchSourceSignal], stops: Int)>(([], 0))

    func install(onStop: @escaping @Sendable () -> Void, onStatus: @escaping @Sendable () -> Void) {
        for number in [SIGINT, SIGTERM, SIGUSR1] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [self] in
                if number == SIGUSR1 {
                    onStatus()
                    return
                }
                let stops = state.withLock { s -> Int in
                    s.stops += 1
                    return s.stops
                }
                if stops > 1 {
                    tool.warn("second signal: exiting without draining")
                    exit(1)
                }
                tool.warn("draining: finishing in-flight messages (send the signal again to exit at once)")
                onStop()
            }
            source.resume()
            state.withLock { $0.sources.append(source) }
        }
    }
}

/// Status lines with rates since the previous line.
final class StatusPrinter: Sendable {
    private let previous = Mutex<(stats: [BridgeRouteStatistics], at: ContinuousClock.Instant)?>(nil)

    func print(_ bridge: NATSKafkaBridge) {
        let now = ContinuousClock.now
        let stats = bridge.statistics
        let before = previous.withLock { p -> (stats: [BridgeRouteStatistics], at: ContinuousClock.Instant)? in
            defer { p = (stats, now) }
            return p
        }
        let seconds = before.map { Double((now - $0.at).components.attoseconds) / 1e18 + Double((now - $0.at).components.seconds) } ?? 0
        for line in BridgeServiceCommand.statusLines(stats, previous: before?.stats, seconds: seconds) { tool.status(line) }
    }
}

let nats: NATSClient
do {
    nats = try await NATSClient.connect(configuration.nats)
} catch {
    if error.code == .invalidConfiguration { tool.fail(usage: UsageError(error.message)) }
    tool.fail(connect: error, servers: configuration.natsDisplay)
}
tool.reportConnectionEvents(of: nats)
let kafka: KafkaClient
do {
    kafka = try await KafkaClient.connect(configuration.kafka)
} catch {
    tool.fail("cannot connect to Kafka \(configuration.kafka.bootstrapServers.map(\.description).joined(separator: ",")): \(error.message)",
              exitCode: error.code == .invalidConfiguration ? .usage : .connection)
}
let bridge: NATSKafkaBridge
do {
    bridge = try NATSKafkaBridge(id: configuration.id, nats: nats, kafka: kafka, routes: configuration.routes, producer: configuration.producer)
} catch {
    tool.fail(usage: UsageError(error.description))
}

let printer = StatusPrinter()
let signals = Signals()
signals.install(onStop: { Task { await bridge.drain() } }, onStatus: { printer.print(bridge) })
for line in configuration.plan { tool.status(line) }

// Events: failures and dead letters as they happen.
let eventLog = Task.detached {
    for await event in bridge.events {
        switch event {
        case .forwardFailed, .deadLettered, .routeStopped: tool.warn(event.description)
        case .routeStarted: tool.status(event.description)
        }
    }
}
let statusTask = Task.detached {
    guard configuration.statusInterval > .zero else { return }
    while !Task.isCancelled {
        try? await Task.sleep(for: configuration.statusInterval)
        if Task.isCancelled { return }
        printer.print(bridge)
    }
}
let onceTask = Task.detached {
    guard let target = command.once else { return }
    while !Task.isCancelled {
        let done = bridge.statistics.allSatisfy { $0.forwarded + $0.deadLettered + $0.failed >= target }
        if done {
            await bridge.drain()
            return
        }
        try? await Task.sleep(for: .milliseconds(20))
    }
}

var exitCode = ToolExitCode.success
do {
    try await bridge.run()
} catch {
    tool.warn(error.description)
    exitCode = .failure
}
statusTask.cancel()
onceTask.cancel()
printer.print(bridge)
await nats.close()
kafka.close()
_ = eventLog
exit(exitCode.rawValue)
