#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ToolSupport
import TributaryJetStream

/// The process side shared by `nats-stream` and `nats-consumer`: command-line parsing with
/// help and usage errors, and exit codes for JetStream errors.
public enum JetStreamTool {
    /// Parses the process arguments with `set`, then builds the command with `make`.
    ///
    /// On help prints it to stdout and exits 0; on a usage error prints one line and a `--help`
    /// hint to stderr and exits 1.
    public static func parseCommandLine<Command>(_ set: SubcommandSet,
                                                 _ make: (String, ParsedArguments, [String: String]) throws(UsageError) -> Command) -> Command {
        let tool = Tool(name: set.tool)
        do throws(UsageError) {
            switch try set.parse(Array(CommandLine.arguments.dropFirst())) {
            case .toolHelp:
                StandardStreams.writeOutput(Array(set.helpText.utf8))
                exit(ToolExitCode.success.rawValue)
            case .commandHelp(let name):
                let spec = set.commands.first { $0.name == name.value }
                StandardStreams.writeOutput(Array((spec?.helpText ?? set.helpText).utf8))
                exit(ToolExitCode.success.rawValue)
            case .run(let name, let arguments):
                return try make(name, arguments, ProcessInfo.processInfo.environment)
            }
        } catch {
            tool.fail(usage: error)
        }
    }

    /// The exit code for a JetStream error: 2 when the connection is gone, else 1.
    public static func exitCode(for error: JetStreamError) -> ToolExitCode {
        error.isConnectionFatal ? .connection : .failure
    }
}
