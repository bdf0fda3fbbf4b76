import TributaryNATS

/// Settings of a continuous pull (``JetStreamConsumer/messages(_:)``). Defaults like nats.go's `Messages()`.
public struct JetStreamPullOptions: Sendable {
    /// Default messages kept requested or buffered: 500 (like nats.go `PullMaxMessages`).
    public static let defaultBatch = 500
    /// Default lifetime of each pull request: 30 s (like nats.go `PullExpiry`).
    public static let defaultExpires: Duration = .seconds(30)
    /// Default idle heartbeat: 15 s (half the expiry, like nats.go).
    public static let defaultIdleHeartbeat: Duration = .seconds(15)

    /// Messages kept requested or buffered. Default `defaultBatch`.
    public var batch = JetStreamPullOptions.defaultBatch
    /// Bytes kept requested or buffered; nil to bound by messages only. Default nil.
    public var maxBytes: Int?
    /// Pull again when requested-or-buffered messages fall to this. Default: half of `batch`.
    public var thresholdMessages: Int?
    /// Lifetime of each pull request. Default `defaultExpires`.
    public var expires = JetStreamPullOptions.defaultExpires
    /// The server sends a heartbeat this often while a request is idle; two missed heartbeats
    /// mean the request is gone (server restart, reconnect, lost leader) and a new one is sent.
    /// Default `defaultIdleHeartbeat`.
    public var idleHeartbeat = JetStreamPullOptions.defaultIdleHeartbeat

    /// Creates the default options.
    public init() {}
}

/// A handle for one consumer of one stream: info, fetch and continuous pull.
public final class JetStreamConsumer: Sendable {
    /// Default expiry of a `fetch`: 30 s (like nats.go `FetchMaxWait`).
    public static let defaultFetchExpires: Duration = .seconds(30)

    /// The context requests go through.
    public let context: JetStreamContext
    /// The stream.
    public let stream: String
    /// The consumer's name.
    public let name: String
    /// The info returned when this handle was created or updated, if any.
    public let cachedInfo: ConsumerInfo?

    init(context: JetStreamContext, stream: String, name: String, cachedInfo: ConsumerInfo?) {
        self.context = context
        self.stream = stream
        self.name = name
        self.cachedInfo = cachedInfo
    }

    /// The consumer's current configuration and state.
    public func info() async throws(JetStreamError) -> ConsumerInfo {
        try await context.consumerInfo(stream: stream, name: name)
    }

    var nextSubject: String {
        context.apiSubject(JetStreamAPISubject.consumerMessageNext(stream: stream, consumer: name))
    }

    /// Pulls one batch: up to `batch` messages (and `maxBytes`), waiting up to `expires` for
    /// them, or, with `noWait`, only what is available now.
    ///
    /// Returns early with fewer messages when the request expires (408), finds nothing (404) or
    /// ends on a byte limit or leadership change (409); those statuses are handled here.
    /// - Throws: `.consumerDeleted`; `.pullRequestRefused` (for example a batch above the
    ///   consumer's `maxBatch`); `.invalidArgument` for a batch below 1; `.connection`.
    public func fetch(_ batch: Int, maxBytes: Int? = nil, expires: Duration = JetStreamConsumer.defaultFetchExpires,
                      noWait: Bool = false) async throws(JetStreamError) -> [JetStreamMessage] {
        guard batch >= 1 else { throw JetStreamError(.invalidArgument, "fetch batch must be at least 1, got \(batch)", stream: stream, consumer: name) }
        guard noWait || expires >= .milliseconds(1) else {
            throw JetStreamError(.invalidArgument, "fetch expiry must be at least 1 ms", stream: stream, consumer: name)
        }
        let client = context.client
        let subject = nextSubject
        let inbox = client.newInbox()
        let subscription: NATSSubscription
        do {
            subscription = try client.subscribe(to: inbox)
        } catch {
            throw JetStreamError.fromNATS(error, apiSubject: subject, stream: stream, consumer: name)
        }
        let request = PullRequest(batch: batch, maxBytes: maxBytes, expires: noWait ? nil : expires, noWait: noWait ? true : nil)
        let body = request.wireJSON
        do {
            try client.publish(body, to: subject, replyTo: inbox)
        } catch {
            subscription.unsubscribe()
            throw JetStreamError.fromNATS(error, apiSubject: subject, stream: stream, consumer: name)
        }
        return try await Self.collect(from: subscription, batch: batch, guardTime: (noWait ? .zero : expires) + context.options.requestTimeout,
                                      client: client, apiSubject: subject, stream: stream, consumer: name)
    }

    /// Reads the replies to one pull request from `subscription` (which it unsubscribes): up to
    /// `batch` messages, ending early on the statuses that end a request; shared by `fetch` and
    /// ``JetStreamMessage/ackNext(expires:)``.
    static func collect(from subscription: NATSSubscription, batch: Int, guardTime: Duration, client: NATSClient,
                        apiSubject subject: String, stream: String, consumer name: String) async throws(JetStreamError) -> [JetStreamMessage] {
        // The server ends the request itself (408 at expiry, 404 for no-wait); this guard only
        // ends the wait when no status arrives at all (connection lost meanwhile).
        let guardTask = Task {
            try? await Task.sleep(for: guardTime)
            subscription.unsubscribe()
        }
        defer {
            guardTask.cancel()
            subscription.unsubscribe()
        }
        var messages: [JetStreamMessage] = []
        var failure: JetStreamError?
        do throws(NATSError) {
            loop: for try await message in subscription {
                let status = PullStatus(status: message.status, description: message.headers?.statusDescription,
                                        pendingMessages: message.headers?[JetStreamHeader.pendingMessages],
                                        pendingBytes: message.headers?[JetStreamHeader.pendingBytes])
                switch status {
                case nil:
                    messages.append(JetStreamMessage(message: message, client: client))
                    if messages.count == batch { break loop }
                case .heartbeat?:
                    continue
                case .noMessages?, .requestExpired?, .requestEnded?, .leadershipChange?, .serverShutdown?:
                    break loop
                case .noResponders?:
                    failure = JetStreamError(.noResponders, "nothing received the pull request for consumer '\(name)' of stream '\(stream)'; check that the consumer exists and JetStream is up",
                                             apiSubject: subject, stream: stream, consumer: name, status: 503)
                    break loop
                case .consumerDeleted?:
                    failure = JetStreamError(.consumerDeleted, "consumer '\(name)' of stream '\(stream)' was deleted during the fetch", apiSubject: subject,
                                             stream: stream, consumer: name, status: 409)
                    break loop
                case .refused(let code, let text)?:
                    failure = JetStreamError(.pullRequestRefused, "the server refused the pull request: \(code) \(text); check batch, expiry and max bytes against the consumer's limits",
                                             apiSubject: subject, stream: stream, consumer: name, status: code, serverDescription: text)
                    break loop
                }
            }
        } catch {
            throw JetStreamError.fromNATS(error, apiSubject: subject, stream: stream, consumer: name)
        }
        if let failure { throw failure }
        return messages
    }

    /// Consumes continuously: an AsyncSequence of messages kept flowing by pull requests topped up
    /// at a threshold, with idle heartbeats to notice a dead request.
    ///
    /// Statuses 404/408 and a 409 Leadership Change are handled inside (a new request follows);
    /// other 409s end the sequence with a typed error or appear on ``JetStreamMessages/events``.
    /// Ending the loop or cancelling the task stops it; call ``JetStreamMessages/stop()`` otherwise.
    /// - Throws: `.invalidArgument` for bad options, `.connection` when subscribing fails.
    public func messages(_ options: JetStreamPullOptions = JetStreamPullOptions()) throws(JetStreamError) -> JetStreamMessages {
        guard options.batch >= 1 else { throw JetStreamError(.invalidArgument, "batch must be at least 1", stream: stream, consumer: name) }
        guard options.idleHeartbeat >= .milliseconds(100), options.expires >= options.idleHeartbeat * 2 else {
            throw JetStreamError(.invalidArgument, "idleHeartbeat must be at least 100 ms and at most half of expires", stream: stream, consumer: name)
        }
        let messages = JetStreamMessages(consumer: self, options: options)
        try messages.start()
        return messages
    }
}
