import TributaryNATSProtocol

/// A tool's parsed command line: built purely from arguments and environment, so it can be
/// tested without a process or a server.
public protocol ToolCommand: Sendable {
    /// The command line description (flags, positional arguments, help).
    static var spec: CommandSpec { get }

    /// Builds the command from parsed arguments.
    ///
    /// - Throws: `UsageError` for invalid values or combinations.
    init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError)
}

extension ToolCommand {
    /// Parses `arguments` (without the program name); nil when `-h/--help` was given.
    ///
    /// - Throws: `UsageError` for anything `CommandSpec.parse` or `init` rejects.
    public static func parse(_ arguments: [String], environment: [String: String]) throws(UsageError) -> Self? {
        switch try spec.parse(arguments) {
        case .help: return nil
        case .run(let parsed): return try Self(parsed, environment: environment)
        }
    }
}

/// Shared validation and help text for the command structs.
enum CommandChecks {
    /// Rejects subjects the client would refuse, as a usage error naming the argument.
    static func subject(_ subject: String, what: String = "subject", wildcards: Bool = false) throws(UsageError) {
        if let problem = NATSValidation.subjectProblem(subject, forSubscription: wildcards) {
            throw UsageError("invalid \(what) '\(subject)': \(problem)")
        }
    }

    /// Rejects an invalid queue group name.
    static func queue(_ queue: String) throws(UsageError) {
        if let problem = NATSValidation.queueProblem(queue) {
            throw UsageError("invalid queue group '\(queue)': \(problem)")
        }
    }

    /// A `--queue` value: the group, or nil for an empty value (`--queue ''`: no queue group),
    /// the same meaning in every tool.
    static func queueGroup(_ text: String?) throws(UsageError) -> String? {
        guard let text, !text.isEmpty else { return nil }
        try queue(text)
        return text
    }

    /// The "Exit status" help section; `failures` lists what exits 1 besides usage errors.
    static func exitStatus(failures: String) -> String {
        """
        Exit status:
          0  success (also after Ctrl-C or SIGTERM)
          1  usage error (unknown flag, missing argument, bad value), or
             \(failures)
          2  cannot connect or authenticate, or the connection was lost
        """
    }
}
