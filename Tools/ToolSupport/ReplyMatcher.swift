import Synchronization
import TributaryNATSProtocol

/// Requests held by `nats-sub --match-replies` until their replies arrive, keyed by reply subject.
///
/// The request and its reply arrive on different subscriptions, read by different tasks, so a
/// reply may be handled before its request: such a reply is kept (the most recent
/// `earlyReplyLimit` of them) until the request shows up.
public final class ReplyMatcher: Sendable {
    /// Replies kept while their requests have not been seen yet.
    public static let earlyReplyLimit = 1024

    private struct State {
        var waiting: [String: (request: NATSMessage, number: Int)] = [:]
        var early: [String: NATSMessage] = [:]
        var earlyOrder: [String] = []
    }

    private let state = Mutex(State())

    /// Creates an empty matcher.
    public init() {}

    /// Holds `request` (numbered `number`) until a message arrives on its reply subject, or
    /// returns that reply at once when it came first. A request without a reply subject is not held.
    public func hold(_ request: NATSMessage, number: Int) -> NATSMessage? {
        guard let replyTo = request.replyTo, !replyTo.isEmpty else { return nil }
        return state.withLock { state -> NATSMessage? in
            if let reply = state.early.removeValue(forKey: replyTo) {
                state.earlyOrder.removeAll { $0 == replyTo }
                return reply
            }
            state.waiting[replyTo] = (request, number)
            return nil
        }
    }

    /// The request waiting for `reply` (removed from the matcher); nil when none waits yet, in
    /// which case the reply is kept for a request still to come.
    public func take(_ reply: NATSMessage) -> (request: NATSMessage, number: Int)? {
        state.withLock { state -> (request: NATSMessage, number: Int)? in
            if let held = state.waiting.removeValue(forKey: reply.subject) { return held }
            if state.early.updateValue(reply, forKey: reply.subject) == nil { state.earlyOrder.append(reply.subject) }
            if state.earlyOrder.count > Self.earlyReplyLimit {
                state.early.removeValue(forKey: state.earlyOrder.removeFirst())
            }
            return nil
        }
    }

    /// Requests still waiting.
    public var pendingCount: Int { state.withLock { $0.waiting.count } }
}
