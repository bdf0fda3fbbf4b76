/// A command-line mistake: unknown flag, missing or malformed value, wrong number of arguments.
///
/// Tools report it as one line on stderr followed by a hint to run `--help`, and exit with
/// `ToolExitCode.usage` (1).
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in one line, without the tool name (for example `unknown flag '--cuont'`).
    public var message: String

    /// Creates a usage error with a one-line message.
    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
