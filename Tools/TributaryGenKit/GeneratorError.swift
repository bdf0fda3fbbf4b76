/// A failure outside the specs themselves: the file system, or a renderer breaking its contract.
public struct GeneratorError: Error, Sendable, CustomStringConvertible {
    /// What went wrong and, where possible, what to do.
    public let message: String

    /// Creates an error with `message`.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
