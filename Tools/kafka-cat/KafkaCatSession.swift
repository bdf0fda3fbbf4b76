import Foundation
import KafkaCatCore
import ToolSupport
import TributaryKafka

/// The parsed command plus the process side every mode shares: connecting, informational lines
/// on stderr (kcat's `% ` lines, by verbosity) and failing with an exit code.
struct KafkaCatSession: Sendable {
    let command: KafkaCatCommand
    let tool: Tool

    /// Connects to the bootstrap brokers with the `-X` client properties.
    func connect() async throws(KafkaError) -> KafkaClient {
        var configuration = KafkaClientConfiguration()
        configuration.bootstrapServers = command.brokers
        command.properties.apply(to: &configuration, producing: command.mode == .produce)
        if let timeout = command.metadataTimeout {
            configuration.operationTimeout = timeout
            configuration.connectTimeout = min(configuration.connectTimeout, timeout)
        }
        configuration.traceRequests = command.properties.debug != nil
        let client = try await KafkaClient.connect(configuration)
        if configuration.traceRequests {
            let tool = tool
            Task.detached {
                for await trace in client.requestTraces { tool.status("% DEBUG: \(trace)") }
            }
        }
        return client
    }

    /// Prints `% line` on stderr when the verbosity is at least `level` (1: shown unless `-q`).
    func info(_ line: String, level: Int = 1) {
        if command.verbosity >= level { tool.status("% " + line) }
    }

    /// Prints `kafka-cat: error: …` and exits: 1 for a configuration the client refused, 2 for
    /// everything the brokers said or did.
    func fail(_ error: KafkaError) -> Never {
        tool.fail("error: \(Self.withPropertyNames(error.description))", exitCode: error.code == .invalidConfiguration ? .usage : .connection)
    }

    /// Error advice names Swift properties (`KafkaClientConfiguration.requestTimeout`); a
    /// kafka-cat user sets them with -X, so the -X name is added.
    static func withPropertyNames(_ text: String) -> String {
        var result = text
        for entry in KafkaCatProperties.catalog where entry.target.contains(".") {
            let swift = entry.target
            let short = String(swift.split(separator: ".").last ?? "")
            for written in [swift, short] where result.contains(written) && !result.contains("-X \(entry.name)") {
                result = result.replacingOccurrences(of: written, with: "\(written) (-X \(entry.name))")
                break
            }
        }
        return result
    }

    /// Prints `kafka-cat: error: message` and exits 2.
    func fail(_ message: String) -> Never {
        tool.fail("error: \(message)", exitCode: .connection)
    }

    /// The partitions of `topic` to work on: `-p` (checked to exist) or all of them.
    func partitions(of topic: KafkaTopicMetadata) -> [Int32] {
        let all = topic.partitions.map(\.partition)
        guard let wanted = command.partition else { return all }
        guard all.contains(wanted) else {
            fail("topic '\(topic.name)' has partitions 0..\(all.count - 1): partition \(wanted) does not exist")
        }
        return [wanted]
    }
}
