import TributaryNATS

/// Deduplication id and expectations of one JetStream publish.
///
/// A failed expectation throws a ``JetStreamError`` with code `.expectationFailed`; nothing is stored.
public struct JetStreamPublishOptions: Sendable, Hashable {
    /// `Nats-Msg-Id`: a repeat inside the stream's duplicate window is acknowledged as a duplicate
    /// and not stored again.
    public var messageID: String?
    /// `Nats-Expected-Stream`: the subject must be stored by this stream.
    public var expectedStream: String?
    /// `Nats-Expected-Last-Sequence`: the stream's last sequence must be this.
    public var expectedLastSequence: UInt64?
    /// `Nats-Expected-Last-Subject-Sequence`: the last message on the subject must have this sequence (0: none yet).
    public var expectedLastSubjectSequence: UInt64?
    /// `Nats-Expected-Last-Msg-Id`: the stream's last message must carry this `Nats-Msg-Id`.
    public var expectedLastMessageID: String?

    /// Creates publish options.
    public init(messageID: String? = nil, expectedStream: String? = nil, expectedLastSequence: UInt64? = nil,
                expectedLastSubjectSequence: UInt64? = nil, expectedLastMessageID: String? = nil) {
        self.messageID = messageID
        self.expectedStream = expectedStream
        self.expectedLastSequence = expectedLastSequence
        self.expectedLastSubjectSequence = expectedLastSubjectSequence
        self.expectedLastMessageID = expectedLastMessageID
    }

    /// `headers` with these options' headers set.
    func apply(to headers: NATSHeaders?) -> NATSHeaders? {
        var pairs: [(String, String)] = []
        if let messageID { pairs.append((JetStreamHeader.msgID, messageID)) }
        if let expectedStream { pairs.append((JetStreamHeader.expectedStream, expectedStream)) }
        if let expectedLastSequence { pairs.append((JetStreamHeader.expectedLastSequence, String(expectedLastSequence))) }
        if let expectedLastSubjectSequence { pairs.append((JetStreamHeader.expectedLastSubjectSequence, String(expectedLastSubjectSequence))) }
        if let expectedLastMessageID { pairs.append((JetStreamHeader.expectedLastMsgID, expectedLastMessageID)) }
        if pairs.isEmpty { return headers }
        var result = headers ?? NATSHeaders()
        for (name, value) in pairs { result[name] = value }
        return result
    }
}

extension PubAck {
    /// True when the message was a duplicate (same `Nats-Msg-Id` inside the window) and was not stored again.
    public var isDuplicate: Bool { duplicate ?? false }
}

extension JetStreamContext {
    /// Publishes to a stream's subject and waits for the stream's acknowledgement.
    ///
    /// When nothing answers (status 503: JetStream not ready yet after a restart, or no stream
    /// stores the subject) the publish is retried `publishRetryAttempts` times in all, waiting
    /// `publishRetryWait` (doubled each time) in between (ADR-22).
    /// - Returns: the stream, sequence and duplicate flag.
    /// - Throws: `.expectationFailed` when an expectation did not hold; `.noResponders` after the
    ///   retries; `.timeout`; `.apiError` for other refusals (message too large, sealed stream…).
    @discardableResult
    public func publish(_ payload: [UInt8], to subject: String, headers: NATSHeaders? = nil,
                        options publishOptions: JetStreamPublishOptions = JetStreamPublishOptions()) async throws(JetStreamError) -> PubAck {
        let allHeaders = publishOptions.apply(to: headers)
        var wait = options.publishRetryWait
        var attempt = 1
        while true {
            let reply: NATSMessage
            do {
                reply = try await client.request(payload, to: subject, headers: allHeaders, timeout: options.requestTimeout)
            } catch {
                if error.code == .noResponders, attempt < options.publishRetryAttempts {
                    attempt += 1
                    do {
                        try await Task.sleep(for: wait)
                    } catch {
                        throw JetStreamError(.cancelled, "publish to '\(subject)' was cancelled while waiting to retry", apiSubject: subject)
                    }
                    wait = wait * 2
                    continue
                }
                if error.code == .noResponders {
                    throw JetStreamError(.noResponders, "no stream acknowledged the publish to '\(subject)' after \(attempt) attempt(s); create a stream for the subject, or wait for JetStream to become available",
                                         apiSubject: subject, status: 503, underlying: error)
                }
                throw JetStreamError.fromNATS(error, apiSubject: subject, stream: publishOptions.expectedStream, domainHint: false)
            }
            if let ack = PubAckFastPath.parse(reply.payload) { return ack }
            return try Self.decodeResponse(reply.payload, as: PubAck.self, apiSubject: subject, stream: publishOptions.expectedStream, consumer: nil)
        }
    }

    /// Publishes a UTF-8 string and waits for the acknowledgement. See ``publish(_:to:headers:options:)``.
    @discardableResult
    public func publish(_ payload: String, to subject: String, headers: NATSHeaders? = nil,
                        options publishOptions: JetStreamPublishOptions = JetStreamPublishOptions()) async throws(JetStreamError) -> PubAck {
        try await publish(Array(payload.utf8), to: subject, headers: headers, options: publishOptions)
    }

    // MARK: Async

    /// Publishes without waiting for the acknowledgement; returns a handle that gets it.
    ///
    /// At most `maxPendingAsyncPublishes` publishes wait for acknowledgements; a further call
    /// waits for room, up to `asyncPublishWaitTimeout`. Every handle ends in exactly one ack or
    /// error: an acknowledgement missing after `requestTimeout` fails it with `.timeout` (the
    /// message may still have been stored). No retry on no responders: the handle fails with `.noResponders`.
    /// While the client's outbound buffer is full the call suspends (like `publishWaiting`).
    /// - Throws: `.publishWindowFull` when no room appeared in time, `.cancelled`, or the NATS
    ///   publish error (`.connection`), in which case nothing was sent.
    public func publishAsync(_ payload: [UInt8], to subject: String, headers: NATSHeaders? = nil,
                             options publishOptions: JetStreamPublishOptions = JetStreamPublishOptions()) async throws(JetStreamError) -> JetStreamPublishHandle {
        try await asyncPublisher.publish(payload, to: subject, headers: publishOptions.apply(to: headers), stream: publishOptions.expectedStream)
    }

    /// Publishes a UTF-8 string asynchronously. See ``publishAsync(_:to:headers:options:)``.
    public func publishAsync(_ payload: String, to subject: String, headers: NATSHeaders? = nil,
                             options publishOptions: JetStreamPublishOptions = JetStreamPublishOptions()) async throws(JetStreamError) -> JetStreamPublishHandle {
        try await publishAsync(Array(payload.utf8), to: subject, headers: headers, options: publishOptions)
    }

    /// Async publishes still waiting for their acknowledgement.
    public var pendingPublishCount: Int { asyncPublisher.pendingCount }

    /// Waits until every async publish made so far has ended (ack or error).
    ///
    /// Each one ends by `requestTimeout` after it was sent at the latest, so this returns in
    /// bounded time. Read the handles to learn which failed.
    /// - Throws: `.cancelled` when the calling task is cancelled.
    public func waitForPendingPublishes() async throws(JetStreamError) {
        try await asyncPublisher.waitForAll()
    }
}
