import Synchronization
import TributaryNATSProtocol

/// Requests held by `nats-sub --match-replies` until their replies arrive, keyed by reply subject.
public final class ReplyMatcher: Sendable {
    private let waiting = Mutex<[String: (request: NATSMessage, number: Int)]>([:])

    /// Creates an empty matcher.
    public init() {}

    /// Holds `request` (numbered `number`) until a message arrives on its reply subject; a
    /// request without a reply subject is not held.
    public func hold(_ request: NATSMessage, number: Int) {
        guard let replyTo = request.replyTo, !replyTo.isEmpty else { return }
        waiting.withLock { $0[replyTo] = (request, number) }
    }

    /// The request waiting for a reply on `subject`, removed from the matcher; nil for a message
    /// on an inbox nobody asked about.
    public func take(replyOn subject: String) -> (request: NATSMessage, number: Int)? {
        waiting.withLock { $0.removeValue(forKey: subject) }
    }

    /// Requests still waiting.
    public var pendingCount: Int { waiting.withLock { $0.count } }
}
