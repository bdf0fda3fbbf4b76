import TributaryNATS

/// A message delivered by a JetStream consumer, with its metadata and acknowledgements.
///
/// Acknowledge every message of an explicit-ack consumer: `ack`, `nak`, `term`, or
/// `inProgress` to extend the ack wait, or `ackNext` to acknowledge and pull the next message
/// in one publish. Unacknowledged messages are redelivered after the consumer's ack wait.
public struct JetStreamMessage: Sendable {
    /// The NATS message as it arrived.
    public let message: NATSMessage
    let client: NATSClient

    init(message: NATSMessage, client: NATSClient) {
        self.message = message
        self.client = client
    }

    /// The subject it was published to.
    public var subject: String { message.subject }
    /// Its payload.
    public var payload: [UInt8] { message.payload }
    /// The payload as UTF-8 text.
    public var string: String { message.string }
    /// Its headers, if any.
    public var headers: NATSHeaders? { message.headers }
    /// Stream, consumer, delivery count, sequences, time and pending count, from the reply subject;
    /// nil when the reply subject is not a JetStream ack subject.
    public var metadata: JetStreamMessageMetadata? { message.replyTo.flatMap(JetStreamMessageMetadata.init(replySubject:)) }

    /// Acknowledges the message (`+ACK`); the server will not redeliver it.
    ///
    /// Returns once the ack is buffered; use ``doubleAck(timeout:)`` to wait for the server's confirmation.
    /// - Throws: `.notAcknowledgeable` without a reply subject, `.connection` when the publish fails.
    public func ack() throws(JetStreamError) {
        try send(Self.ackBody)
    }

    /// `+ACK`, made once: every acknowledgement sends these bytes.
    private static let ackBody = Array("+ACK".utf8)

    /// Acknowledges and waits until the server confirms it stored the ack (so it will not redeliver).
    ///
    /// - Throws: `.timeout` when no confirmation came (the ack may still have been stored).
    public func doubleAck(timeout: Duration = JetStreamOptions.defaultRequestTimeout) async throws(JetStreamError) {
        let reply = try replySubject()
        do {
            _ = try await client.request(Array("+ACK".utf8), to: reply, timeout: timeout)
        } catch {
            throw JetStreamError.fromNATS(error, apiSubject: reply, stream: metadata?.stream, consumer: metadata?.consumer, domainHint: false)
        }
    }

    /// Negatively acknowledges: redeliver now, or after `delay`.
    public func nak(delay: Duration? = nil) throws(JetStreamError) {
        if let delay {
            try send("-NAK {\"delay\": \(delay.wholeNanoseconds)}")
        } else {
            try send("-NAK")
        }
    }

    /// Tells the server the message is still being worked on: resets its ack wait (`+WPI`).
    public func inProgress() throws(JetStreamError) {
        try send("+WPI")
    }

    /// Terminates: the server stops redelivering it, without counting it as processed. The
    /// reason appears in the server's termination advisory.
    public func term(reason: String? = nil) throws(JetStreamError) {
        if let reason, !reason.isEmpty {
            try send("+TERM \(reason)")
        } else {
            try send("+TERM")
        }
    }

    func replySubject() throws(JetStreamError) -> String {
        guard let reply = message.replyTo, !reply.isEmpty else {
            throw JetStreamError(.notAcknowledgeable, "the message on '\(message.subject)' has no reply subject, so it cannot be acknowledged; only messages from ack-policy consumers can be", apiSubject: nil)
        }
        return reply
    }

    private func send(_ body: String) throws(JetStreamError) {
        try send(Array(body.utf8))
    }

    private func send(_ body: [UInt8]) throws(JetStreamError) {
        let reply = try replySubject()
        do {
            try client.publish(body, to: reply)
        } catch {
            throw JetStreamError.fromNATS(error, apiSubject: reply, stream: metadata?.stream, consumer: metadata?.consumer, domainHint: false)
        }
    }
}
