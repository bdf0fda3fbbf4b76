import Synchronization
import TributaryNATSProtocol

/// Numbers and prints received messages to stdout, one at a time, from any number of tasks
/// (`nats-sub` with several subjects), and stops at an optional total limit.
///
/// Each message is written with one unbuffered `write`, so a reader on a pipe sees it at once.
public final class MessagePrinter: Sendable {
    /// What `print` did.
    public enum Outcome: Sendable, Equatable {
        /// Printed; more messages are wanted.
        case printed
        /// Printed the message that reached the limit; stop now.
        case printedLast
        /// The limit was already reached; nothing printed.
        case limitReached
    }

    private let style: MessageFormat.Style
    private let limit: Int?
    private let count = Mutex(0)

    /// Creates a printer; `limit` nil means no limit.
    public init(style: MessageFormat.Style, limit: Int?) {
        self.style = style
        self.limit = limit
    }

    /// Messages printed so far.
    public var printedCount: Int { count.withLock { $0 } }

    /// Prints `message` as number N (1-based, in arrival order) unless the limit was reached;
    /// `jetStreamSummary` replaces the `Received on` line (see `MessageFormat.message`).
    public func print(_ message: NATSMessage, jetStreamSummary: String? = nil) -> Outcome {
        count.withLock { printed -> Outcome in
            if let limit, printed >= limit { return .limitReached }
            printed += 1
            StandardStreams.writeOutput(MessageFormat.message(message, number: printed, style: style, jetStreamSummary: jetStreamSummary))
            if let limit, printed >= limit { return .printedLast }
            return .printed
        }
    }
}
