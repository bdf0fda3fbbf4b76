#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoundationEssentials
import TributaryNATS

/// The process side of a nats-* tool: reads the command line, prints to stderr, connects, exits
/// with `ToolExitCode`s. Everything that decides (parsing, formatting) is pure and lives in the
/// `*Command`, `CommandSpec`, `DurationSyntax`, `HeaderArguments` and `MessageFormat` types.
public struct Tool: Sendable {
    /// The tool's name, used as the prefix of error lines (`nats-pub: …`).
    public let name: String

    /// Creates the tool runtime for `name`.
    public init(name: String) {
        self.name = name
    }

    /// Parses the process arguments and environment into `Command`.
    ///
    /// On `-h/--help` prints the help to stdout and exits 0; on a usage error prints one line and
    /// a `--help` hint to stderr and exits 1.
    public static func parseCommandLine<Command: ToolCommand>(_ type: Command.Type) -> Command {
        let tool = Tool(name: Command.spec.name)
        do {
            guard let command = try Command.parse(Array(CommandLine.arguments.dropFirst()),
                                                  environment: ProcessInfo.processInfo.environment) else {
                StandardStreams.writeOutput(Array(Command.spec.helpText.utf8))
                exit(ToolExitCode.success.rawValue)
            }
            return command
        } catch {
            tool.fail(usage: error)
        }
    }

    /// Prints `name: message` and `Try 'name --help' for more information.` to stderr; exits 1.
    public func fail(usage error: UsageError) -> Never {
        StandardStreams.writeError(line: "\(name): \(error.message)")
        StandardStreams.writeError(line: "Try '\(name) --help' for more information.")
        exit(ToolExitCode.usage.rawValue)
    }

    /// Prints `name: cannot connect to SERVERS: reason` to stderr and exits 2.
    public func fail(connect error: NATSError, servers: String) -> Never {
        fail("cannot connect to \(servers): \(error.message)", exitCode: .connection)
    }

    /// Prints `name: message` to stderr and exits with the code `ToolExitCode.forError` gives.
    public func fail(_ error: NATSError) -> Never {
        fail(error.message, exitCode: .forError(error))
    }

    /// Prints `name: message` to stderr and exits with `exitCode`.
    public func fail(_ message: String, exitCode: ToolExitCode) -> Never {
        warn(message)
        exit(exitCode.rawValue)
    }

    /// Prints `name: message` to stderr.
    public func warn(_ message: String) {
        StandardStreams.writeError(line: "\(name): \(message)")
    }

    /// Prints `line` to stderr as is (status lines such as `Published 5 bytes to "x"`).
    public func status(_ line: String) {
        StandardStreams.writeError(line: line)
    }

    /// Connects with `settings`, or prints the failure and exits 2.
    public func connect(_ settings: ConnectionSettings) async -> NATSClient {
        do {
            return try await NATSClient.connect(settings.natsOptions)
        } catch {
            if error.code == .invalidConfiguration {
                fail(usage: UsageError(error.message))
            }
            fail(connect: error, servers: settings.displayServers)
        }
    }

    /// Reports disconnects, reconnects and asynchronous errors (slow consumer, permissions) on
    /// stderr while the client lives. Consumes `client.events`; call at most once per client.
    public func reportConnectionEvents(of client: NATSClient) {
        let tool = self
        Task.detached {
            for await event in client.events {
                switch event {
                case .disconnected(let server, let error):
                    var reason = error?.message ?? ""
                    // The client's message often starts with the endpoint already.
                    if reason.hasPrefix(server + ": ") { reason.removeFirst(server.count + 2) }
                    tool.warn("disconnected from \(server)" + (reason.isEmpty ? "" : ": \(reason)") + "; reconnecting")
                case .reconnected(let server):
                    tool.warn("reconnected to \(server)")
                case .lameDuckMode(let server):
                    tool.warn("server \(server) entered lame-duck mode")
                case .error(let error):
                    tool.warn(error.message)
                case .connected, .closed, .discoveredServers:
                    break
                }
            }
        }
    }

    /// Runs `body`, exits with the code it returns. SIGINT and SIGTERM cancel `body` (which
    /// should then finish up and return `.success`); see `InterruptSignals`.
    public func run(_ body: @escaping @Sendable () async -> ToolExitCode) async -> Never {
        let work = Task { await body() }
        InterruptSignals.install { work.cancel() }
        let code = await work.value
        exit(code.rawValue)
    }
}
