import Foundation
import ToolSupport
import TributaryBridge

/// `tributary-bridge [--check] [--once N] CONFIG`: the parsed command line of the bridge service.
public struct BridgeServiceCommand: ToolCommand {
    public static let spec = CommandSpec(
        name: "tributary-bridge",
        positionalNames: ["CONFIG"],
        minimumPositionals: 1,
        summary: """
        Runs the NATS-Kafka bridge described by the JSON file CONFIG: each route forwards messages
        with the guarantee --check prints. SIGINT or SIGTERM drains (in-flight messages finish,
        offsets are committed and JetStream messages acked) and exits 0; a second signal exits at
        once. A status line per route goes to stderr every status_interval seconds (default 10)
        and on SIGUSR1. NATS_URL and KAFKA_BROKERS are the defaults for the servers.
        """,
        flags: [
            .boolean("check", help: "check the configuration, print the plan and exit"),
            .value("once", placeholder: "N", help: "forward N messages on every route, then drain and exit (for scripts)"),
        ],
        details: [
            """
            Examples:
              tributary-bridge --check bridge.json
              tributary-bridge bridge.json
              tributary-bridge --once 100 bridge.json
            """,
            "Exit status: 0 after a drain; 1 for a bad command line or configuration, or a route that failed; 2 when a server cannot be reached.",
        ]
    )

    /// The configuration file's path.
    public var path: String
    /// `--check`.
    public var checkOnly: Bool
    /// `--once N`.
    public var once: Int?
    /// The configuration, read and checked.
    public var configuration: BridgeConfigFile

    public init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        path = arguments.positionals[0]
        checkOnly = arguments.isSet("check")
        if arguments.isSet("once") {
            once = try arguments.integer("once", default: 1, minimum: 1)
        }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw UsageError("cannot read \(path): \((error as NSError).localizedDescription)")
        }
        configuration = try BridgeConfigFile(json: text, path: path, environment: environment)
    }

    /// One status line per route: totals and the forwarding rate since the previous line.
    public static func statusLines(_ now: [BridgeRouteStatistics], previous: [BridgeRouteStatistics]?, seconds: Double) -> [String] {
        now.map { sample in
            var rate = ""
            if let before = previous?.first(where: { $0.route == sample.route }), seconds > 0 {
                rate = String(format: " (%.0f/s)", Double(sample.forwarded - before.forwarded) / seconds)
            }
            return "route \(sample.route): received \(sample.received), forwarded \(sample.forwarded)\(rate), failed \(sample.failed), dead-lettered \(sample.deadLettered), skipped \(sample.skipped), dropped \(sample.dropped), in flight \(sample.inFlight)"
        }
    }
}
