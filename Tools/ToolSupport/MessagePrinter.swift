import Synchronization
import TributaryNATSProtocol

/// Numbers and prints received messages to stdout (or dumps them to files), one at a time, from
/// any number of tasks (`nats-sub` with several subjects), and stops at an optional total limit.
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

    /// Where messages go.
    public enum Destination: Sendable, Equatable {
        /// Printed on stdout in the `Style`'s layout.
        case standardOutput
        /// `--dump DIR`: one JSON file per message (`N.json`, `N_reply.json`), see `MessageFormat.dumpJSON`.
        case dump(directory: String)
    }

    private let style: MessageFormat.Style
    private let limit: Int?
    private let destination: Destination
    private let count = Mutex(0)
    /// Serialises output when numbers were claimed separately (`--match-replies`).
    private let output = Mutex(())

    /// Creates a printer; `limit` nil means no limit.
    public init(style: MessageFormat.Style, limit: Int?, destination: Destination = .standardOutput) {
        self.style = style
        self.limit = limit
        self.destination = destination
    }

    /// Messages numbered so far.
    public var printedCount: Int { count.withLock { $0 } }

    /// True once the limit's number was given out.
    public var limitReached: Bool { count.withLock { printed in limit.map { printed >= $0 } ?? false } }

    /// Prints `message` as number N (1-based, in arrival order) unless the limit was reached;
    /// `jetStreamSummary` replaces the `Received on` line (see `MessageFormat.message`) and
    /// `dumpName` (the stream sequence) replaces N in the dump file's name.
    ///
    /// - Throws: `DumpError` when a dump file cannot be written.
    public func print(_ message: NATSMessage, jetStreamSummary: String? = nil, dumpName: String? = nil) throws(DumpError) -> Outcome {
        try count.withLock { printed throws(DumpError) -> Outcome in
            if let limit, printed >= limit { return .limitReached }
            printed += 1
            try emit(message, number: printed, jetStreamSummary: jetStreamSummary, matchedReply: nil, dumpName: dumpName)
            if let limit, printed >= limit { return .printedLast }
            return .printed
        }
    }

    /// Takes the next message number without printing (for a request held until its reply);
    /// nil when the limit was already reached. `isLast` is true for the number that reaches it.
    public func claimNumber() -> (number: Int, isLast: Bool)? {
        count.withLock { printed -> (Int, Bool)? in
            if let limit, printed >= limit { return nil }
            printed += 1
            return (printed, limit.map { printed >= $0 } ?? false)
        }
    }

    /// Prints a message under a number from `claimNumber`, with its matched reply if any.
    ///
    /// - Throws: `DumpError` when a dump file cannot be written.
    public func print(_ message: NATSMessage, number: Int, matchedReply: NATSMessage?) throws(DumpError) {
        try output.withLock { _ throws(DumpError) in
            try emit(message, number: number, jetStreamSummary: nil, matchedReply: matchedReply, dumpName: nil)
        }
    }

    private func emit(_ message: NATSMessage, number: Int, jetStreamSummary: String?, matchedReply: NATSMessage?,
                      dumpName: String?) throws(DumpError) {
        switch destination {
        case .standardOutput:
            StandardStreams.writeOutput(MessageFormat.message(message, number: number, style: style,
                                                              jetStreamSummary: jetStreamSummary, matchedReply: matchedReply))
        case .dump(let directory):
            let name = dumpName ?? String(number)
            try DumpDirectory.write(MessageFormat.dumpJSON(message), to: directory + "/" + name + ".json")
            if let matchedReply {
                try DumpDirectory.write(MessageFormat.dumpJSON(matchedReply), to: directory + "/" + name + "_reply.json")
            }
            // A progress dot every 100 messages, as the nats CLI prints.
            if number % 100 == 0 { StandardStreams.writeOutput(Array(".".utf8)) }
        }
    }
}
