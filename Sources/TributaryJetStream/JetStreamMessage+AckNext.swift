import TributaryNATS

extension JetStreamMessage {
    /// The `+NXT` body: the ack, then a pull request for the consumer (ADR-13, ADR-15).
    static func ackNextBody(batch: Int, expires: Duration?) -> String {
        if let expires {
            return "+NXT {\"batch\":\(batch),\"expires\":\(expires.wholeNanoseconds)}"
        }
        return "+NXT {\"batch\":\(batch)}"
    }

    /// Acknowledges the message and asks its consumer for the next `batch` messages, delivered to
    /// `inbox` (`+NXT`, like nats.go's legacy `AckNext`): one publish instead of an ack and a pull request.
    ///
    /// Subscribe to `inbox` before calling. The request behaves like a pull request of `batch`
    /// messages: with `expires` the server ends it with status 408 when nothing more arrived in
    /// time; without it, it waits until messages arrive (or the consumer's `maxRequestExpires`).
    /// Returns once the publish is buffered. Only pull consumers answer the request part; a push
    /// consumer takes the ack and ignores the rest.
    /// - Throws: `.notAcknowledgeable` without a reply subject, `.invalidArgument` for a batch
    ///   below 1 or an empty inbox, `.connection` when the publish fails.
    public func ackNext(deliverTo inbox: String, batch: Int = 1, expires: Duration? = nil) throws(JetStreamError) {
        guard batch >= 1, !inbox.isEmpty else {
            throw JetStreamError(.invalidArgument, "ackNext needs a batch of at least 1 (got \(batch)) and a non-empty inbox",
                                 stream: metadata?.stream, consumer: metadata?.consumer)
        }
        let reply = try replySubject()
        do {
            try client.publish(Array(Self.ackNextBody(batch: batch, expires: expires).utf8), to: reply, replyTo: inbox)
        } catch {
            throw JetStreamError.fromNATS(error, apiSubject: reply, stream: metadata?.stream, consumer: metadata?.consumer, domainHint: false)
        }
    }

    /// Acknowledges the message and waits for the next one of the same pull consumer (`+NXT`).
    ///
    /// Use it on a message from ``JetStreamConsumer/fetch(_:maxBytes:expires:noWait:)`` to walk a
    /// consumer one message at a time with one round trip per message:
    /// `var message = try await consumer.fetch(1).first; while let m = message { …; message = try await m.ackNext() }`.
    /// The ack is stored whatever happens to the request, so the acknowledged message is not redelivered.
    /// - Returns: the next message, or nil when none arrived within `expires` (default 30 s,
    ///   like a fetch).
    /// - Throws: `.notAcknowledgeable` without a reply subject; `.consumerDeleted`;
    ///   `.pullRequestRefused`; `.connection`.
    public func ackNext(expires: Duration = JetStreamConsumer.defaultFetchExpires) async throws(JetStreamError) -> JetStreamMessage? {
        let reply = try replySubject()
        guard expires >= .milliseconds(1) else {
            throw JetStreamError(.invalidArgument, "ackNext expiry must be at least 1 ms", stream: metadata?.stream, consumer: metadata?.consumer)
        }
        let inbox = client.newInbox()
        let subscription: NATSSubscription
        do {
            subscription = try client.subscribe(to: inbox)
        } catch {
            throw JetStreamError.fromNATS(error, apiSubject: reply, stream: metadata?.stream, consumer: metadata?.consumer, domainHint: false)
        }
        do {
            try ackNext(deliverTo: inbox, batch: 1, expires: expires)
        } catch {
            subscription.unsubscribe()
            throw error
        }
        let metadata = self.metadata
        return try await JetStreamConsumer.collect(from: subscription, batch: 1, guardTime: expires + JetStreamOptions.defaultRequestTimeout,
                                                   client: client, apiSubject: reply, stream: metadata?.stream ?? "", consumer: metadata?.consumer ?? "").first
    }
}
