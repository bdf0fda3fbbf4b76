// tributary-soak: the fault matrix. Runs mixed traffic (core NATS, JetStream, Kafka) against
// private brokers for a given time while it restarts, kills and partitions them, counts every
// message and fails when an acknowledged message was lost.
//
//   tributary-soak --duration 60s [--scenarios a,b,...] [--seed N] [--report FILE]
//
// Needs NATS_SERVER_BIN and TANSU_BIN (Tools/brokers.sh install records both in .brokers/env).
// Exit 0: no acknowledged message lost; 1: the verdict failed (a scenario whose brokers did not
// start has no traffic, which fails it too); 2: usage error.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SoakCore
import ToolSupport

let toolName = "tributary-soak"

func usage(_ message: String? = nil) -> Never {
    if let message { StandardStreams.writeError(line: "\(toolName): \(message)") }
    let text = """
    usage: tributary-soak [--duration D] [--scenarios LIST] [--seed N] [--report FILE]
      --duration D       how long traffic runs, e.g. 60s, 30m (default 60s, at least 30s);
                         a drain of up to 60 s follows
      --scenarios LIST   comma-separated, default all: \(SoakScenario.allCases.map(\.rawValue).joined(separator: ","))
      --seed N           seed of the fault schedule and the hostile peer (default: from the clock, printed)
      --report FILE      also write the report to FILE
    Starts its own brokers (nats-server from NATS_SERVER_BIN, tansu from TANSU_BIN), prints one
    line per fault on stderr and the report table on stdout. Exit 0 when no acknowledged message
    was lost and every scenario carried traffic, 1 otherwise, 2 on a usage error.
    """
    if message == nil {
        StandardStreams.writeOutput(Array((text + "\n").utf8))
        exit(0)
    }
    StandardStreams.writeError(line: "Try '\(toolName) --help' for more information.")
    exit(2)
}

struct Settings {
    var duration: Duration = .seconds(60)
    var scenarios = SoakScenario.allCases
    var seed: UInt64?
    var report: String?
}

func parseSettings() -> Settings {
    var settings = Settings()
    var arguments = Array(CommandLine.arguments.dropFirst())
    while !arguments.isEmpty {
        var argument = arguments.removeFirst()
        var inline: String?
        if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
            inline = String(argument[argument.index(after: equals)...])
            argument = String(argument[..<equals])
        }
        func value() -> String {
            if let inline { return inline }
            guard !arguments.isEmpty else { usage("\(argument) needs a value") }
            return arguments.removeFirst()
        }
        switch argument {
        case "-h", "--help": usage()
        case "--duration":
            do { settings.duration = try DurationSyntax.parse(value()) } catch { usage(error.message) }
        case "--scenarios":
            do { settings.scenarios = try SoakScenario.parseList(value()) } catch { usage(error.description) }
        case "--seed":
            let text = value()
            guard let seed = UInt64(text) else { usage("--seed needs a non-negative integer, got '\(text)'") }
            settings.seed = seed
        case "--report": settings.report = value()
        default: usage("unexpected argument '\(argument)'")
        }
    }
    return settings
}

func log(_ line: String) {
    StandardStreams.writeError(line: "\(toolName): \(line)")
}

let settings = parseSettings()
let seed = settings.seed ?? UInt64(Date().timeIntervalSince1970 * 1000)
let schedule: SoakSchedule
do {
    schedule = try SoakSchedule(duration: settings.duration, scenarios: settings.scenarios, seed: seed)
} catch {
    usage(error.description)
}
let durationText = DurationSyntax.format(settings.duration)
log("\(durationText), seed \(seed), scenarios \(settings.scenarios.map(\.rawValue).joined(separator: ",")), \(schedule.faults.count) faults")

let run = SoakRun(start: .now, duration: settings.duration, drainLimit: .seconds(60))
let logger: @Sendable (String) -> Void = { log($0) }

let work = Task { () -> [SoakRow] in
    await withTaskGroup(of: [SoakRow].self) { group in
        for scenario in settings.scenarios {
            let faults = schedule.faults(of: scenario)
            group.addTask {
                do {
                    switch scenario {
                    case .natsRestart: return try await runNATSRestart(run: run, faults: faults, log: logger)
                    case .clusterMemberLoss: return try await runClusterMemberLoss(run: run, faults: faults, log: logger)
                    case .kafkaPartition: return try await runKafkaPartition(run: run, faults: faults, log: logger)
                    case .kafkaRestart: return try await runKafkaRestart(run: run, faults: faults, log: logger)
                    case .rebalanceStorm: return try await runRebalanceStorm(run: run, faults: faults, log: logger)
                    case .slowConsumer: return try await runSlowConsumer(run: run, faults: faults, log: logger)
                    case .hostilePeer: return try await runHostilePeer(run: run, faults: faults, seed: seed, log: logger)
                    }
                } catch {
                    log("\(scenario.rawValue): stopped: \(error)")
                    return []
                }
            }
        }
        var rows: [SoakRow] = []
        for await scenarioRows in group { rows += scenarioRows }
        return rows.sorted {
            (SoakScenario(rawValue: $0.scenario) ?? .natsRestart, $0.traffic) < (SoakScenario(rawValue: $1.scenario) ?? .natsRestart, $1.traffic)
        }
    }
}
let rows = await work.value
let verdict = SoakVerdict(rows: rows, scenarios: settings.scenarios.map(\.rawValue))
var faultCounts: [String: Int] = [:]
for fault in schedule.faults { faultCounts[fault.scenario.rawValue, default: 0] += 1 }
let report = SoakReport.render(rows: rows, faults: faultCounts, duration: durationText, seed: seed,
                               cores: ProcessInfo.processInfo.activeProcessorCount,
                               peakRSSKB: ProcessResources.peakRSSKB(), verdict: verdict)
StandardStreams.writeOutput(Array(report.utf8))
if let path = settings.report {
    if !FileManager.default.createFile(atPath: path, contents: Data(report.utf8)) {
        log("cannot write the report to \(path)")
    }
}
exit(verdict.exitCode)
