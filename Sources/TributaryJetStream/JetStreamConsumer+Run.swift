#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TributaryNATS

/// How often a message is tried before it is dead-lettered, and how long JetStream waits before
/// delivering it again. Same shape as `KafkaRetryPolicy`.
public struct JetStreamRetryPolicy: Sendable {
    /// Deliveries in total, the first included. Default 3. The consumer's `maxDeliver`, when lower, wins.
    public var attempts: Int
    /// Delay before the second delivery (a `nak` with this delay), doubled for each later one. Default 100 ms.
    public var backoff: Duration

    /// Creates a policy.
    public init(attempts: Int = 3, backoff: Duration = .milliseconds(100)) {
        self.attempts = Swift.max(1, attempts)
        self.backoff = backoff
    }
}

/// Where messages go whose handler keeps failing, or that reach the consumer's `max_deliver`
/// without an acknowledgement. Same shape as `KafkaDeadLetterPolicy`.
public struct JetStreamDeadLetterPolicy: Sendable {
    /// The prefix of the default dead-letter subject, `DLQ.<stream>.<consumer>`.
    public static let defaultPrefix = "DLQ"
    /// The dead-letter subject for a message of `stream` delivered by `consumer`. A stream must
    /// store it: the move waits for its acknowledgement. Default `DLQ.<stream>.<consumer>`.
    public var subject: @Sendable (_ stream: String, _ consumer: String) -> String

    /// Dead letters of stream `ORDERS`, consumer `billing` go to `DLQ.ORDERS.billing`.
    public init() {
        subject = { "\(JetStreamDeadLetterPolicy.defaultPrefix).\($0).\($1)" }
    }

    /// Dead letters go where `subject` says.
    public init(subject: @escaping @Sendable (_ stream: String, _ consumer: String) -> String) {
        self.subject = subject
    }

    /// Header: the origin stream.
    public static let streamHeader = "Dlq-Original-Stream"
    /// Header: the origin consumer.
    public static let consumerHeader = "Dlq-Original-Consumer"
    /// Header: the origin subject.
    public static let subjectHeader = "Dlq-Original-Subject"
    /// Header: the origin stream sequence.
    public static let sequenceHeader = "Dlq-Original-Sequence"
    /// Header: how many times the message was delivered.
    public static let deliveriesHeader = "Dlq-Delivery-Count"
    /// Header: why it was moved: `handler-failed`, `terminated` or `max-deliveries`.
    public static let reasonHeader = "Dlq-Reason"
    /// Header: the handler's last error, when there was one.
    public static let errorHeader = "Dlq-Error"
}

/// Thrown by a run-loop handler for a message that must not be retried: it goes to the
/// dead-letter subject at once (without a dead-letter policy it is terminated).
public struct JetStreamTerminate: Error, Sendable {
    /// Why the message is rejected (recorded in the dead letter and the termination advisory).
    public var reason: String

    /// Creates the error.
    public init(reason: String) {
        self.reason = reason
    }
}

extension JetStreamConsumer {
    /// The subject of the server's advisory for messages that reached `max_deliver` unacknowledged.
    public var maxDeliveriesAdvisorySubject: String {
        "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.\(stream).\(name)"
    }

    /// Processes messages until the calling task is cancelled or a fatal error happens (on
    /// cancellation, handlers already running finish and settle their messages first):
    /// `eachMessage` runs per message, up to `concurrency` at once; a message is acknowledged
    /// (and the server's confirmation awaited) only after its handler returned (at-least-once).
    ///
    /// A failing handler gets the message again, redelivered by JetStream after
    /// `retry.backoff` (doubling), up to `retry.attempts` deliveries or the consumer's
    /// `maxDeliver`, whichever is lower. On the last failure, or when the handler throws
    /// ``JetStreamTerminate``, the message is republished to the dead-letter subject with headers
    /// naming the origin stream, subject, sequence, delivery count, reason and error; once that
    /// publish is acknowledged the original is acknowledged, so a work-queue stream drops it. A
    /// message that reaches `maxDeliver` without an answer (its client died) is announced by the
    /// server's max-deliveries advisory: it is read by stream sequence, dead-lettered the same
    /// way and, on a work-queue stream, deleted. Dead letters carry `Nats-Msg-Id`
    /// `dlq-<stream>-<sequence>`, so a move repeated after a crash inside the dead-letter
    /// stream's duplicate window is stored once: nothing is lost, nothing is doubled in that window.
    ///
    /// Without a dead-letter policy the last failure terminates the message (`term`).
    /// - Throws: `.consumerDeleted`, `.pullRequestRefused`, a dead-letter publish that fails
    ///   (`.noResponders` when no stream stores the dead-letter subject), `.invalidArgument`.
    public func run(concurrency: Int = 1, retry: JetStreamRetryPolicy = JetStreamRetryPolicy(),
                    deadLetter: JetStreamDeadLetterPolicy? = JetStreamDeadLetterPolicy(),
                    pull: JetStreamPullOptions = JetStreamPullOptions(),
                    eachMessage: @escaping @Sendable (JetStreamMessage) async throws -> Void) async throws(JetStreamError) {
        guard concurrency >= 1 else { throw JetStreamError(.invalidArgument, "concurrency must be at least 1", stream: stream, consumer: name) }
        let info = try await self.info()
        let maxDeliver = info.config?.maxDeliver.flatMap { $0 > 0 ? $0 : nil }
        let attempts = Swift.min(retry.attempts, maxDeliver ?? Int.max)
        let streamInfo = try await context.streamInfo(stream)
        let workQueue = streamInfo.config.retention == .workQueue

        // Advisories of messages that ran out of deliveries while nobody answered them.
        var advisories: NATSSubscription?
        if deadLetter != nil {
            do {
                advisories = try context.client.subscribe(to: maxDeliveriesAdvisorySubject)
            } catch {
                throw JetStreamError.fromNATS(error, apiSubject: maxDeliveriesAdvisorySubject, stream: stream, consumer: name)
            }
        }
        defer { advisories?.unsubscribe() }

        var pullOptions = pull
        pullOptions.batch = Swift.max(pull.batch, concurrency)
        let messages = try self.messages(pullOptions)
        defer { messages.stop() }

        let outcome: JetStreamError? = await withTaskGroup(of: JetStreamError?.self) { group in
            if let advisories, let deadLetter {
                group.addTask {
                    do throws(NATSError) {
                        for try await advisory in advisories {
                            if let error = await self.deadLetterAdvisory(advisory, policy: deadLetter, workQueue: workQueue) { return error }
                        }
                    } catch {
                        return Task.isCancelled ? nil : JetStreamError.fromNATS(error, apiSubject: self.maxDeliveriesAdvisorySubject, stream: self.stream, consumer: self.name)
                    }
                    return nil
                }
            }
            var running = 0
            var failure: JetStreamError?
            do throws(JetStreamError) {
                for try await message in messages {
                    if running >= concurrency {
                        if let result = await group.next(), let result { failure = result; break }
                        running -= 1
                    }
                    group.addTask {
                        // Unstructured, so cancelling the run lets a handler in flight finish and
                        // settle its message (ack or dead letter) instead of leaving it half done.
                        await Task {
                            await self.handle(message, attempts: attempts, backoff: retry.backoff, deadLetter: deadLetter, eachMessage: eachMessage)
                        }.value
                    }
                    running += 1
                }
            } catch {
                failure = error
            }
            // The pull ended (cancelled, or a failure): stop it, then let handlers in flight finish.
            messages.stop()
            advisories?.unsubscribe()
            for await result in group where failure == nil {
                if let result { failure = result }
            }
            group.cancelAll()
            return failure
        }
        if let outcome, outcome.code != .cancelled { throw outcome }
    }

    /// Runs the handler for one delivery and settles the message. Returns an error that ends the run.
    private func handle(_ message: JetStreamMessage, attempts: Int, backoff: Duration, deadLetter: JetStreamDeadLetterPolicy?,
                        eachMessage: @Sendable (JetStreamMessage) async throws -> Void) async -> JetStreamError? {
        let delivered = Int(message.metadata?.deliveredCount ?? 1)
        do {
            try await eachMessage(message)
        } catch let terminate as JetStreamTerminate {
            return await deadLetterOrTerm(message, reason: "terminated", error: terminate.reason, deadLetter: deadLetter)
        } catch {
            if delivered < attempts {
                let delay = backoff * (1 << Swift.min(delivered - 1, 20))
                do throws(JetStreamError) { try message.nak(delay: delay) } catch { return error.isConnectionFatal ? error : nil }
                return nil
            }
            return await deadLetterOrTerm(message, reason: "handler-failed", error: "\(error)", deadLetter: deadLetter)
        }
        do throws(JetStreamError) {
            try await message.doubleAck(timeout: context.options.requestTimeout)
        } catch {
            // Not confirmed: the message comes again after the ack wait (at-least-once).
            return error.isConnectionFatal ? error : nil
        }
        return nil
    }

    private func deadLetterOrTerm(_ message: JetStreamMessage, reason: String, error: String, deadLetter: JetStreamDeadLetterPolicy?) async -> JetStreamError? {
        guard let deadLetter, let metadata = message.metadata else {
            do throws(JetStreamError) { try message.term(reason: "\(reason): \(error)") } catch { return error.isConnectionFatal ? error : nil }
            return nil
        }
        do throws(JetStreamError) {
            try await publishDeadLetter(subject: message.subject, headers: message.headers, payload: message.payload, sequence: metadata.streamSequence,
                                        deliveries: metadata.deliveredCount, reason: reason, error: error, policy: deadLetter)
            try await message.doubleAck(timeout: context.options.requestTimeout)
        } catch {
            return error
        }
        return nil
    }

    /// A max-deliveries advisory: read the message by sequence, dead-letter it, drop it from a work queue.
    private func deadLetterAdvisory(_ advisory: NATSMessage, policy: JetStreamDeadLetterPolicy, workQueue: Bool) async -> JetStreamError? {
        let event: MaxDeliveriesAdvisory
        do throws(JetStreamError) {
            event = try JetStreamContext.decodeResponse(advisory.payload, as: MaxDeliveriesAdvisory.self, apiSubject: advisory.subject, stream: stream, consumer: name)
        } catch {
            return error
        }
        do throws(JetStreamError) {
            let stored = try await context.getMessage(stream: stream, sequence: event.streamSequence)
            try await publishDeadLetter(subject: stored.subject, headers: stored.headers, payload: stored.payload, sequence: event.streamSequence,
                                        deliveries: event.deliveries, reason: "max-deliveries", error: nil, policy: policy)
            if workQueue {
                try await context.deleteMessage(stream: stream, sequence: event.streamSequence)
            }
        } catch {
            // Gone already (acknowledged late, or moved by another instance): nothing to move.
            if error.code == .messageNotFound || error.apiErrorCode == .streamMessageDeleteFailed { return nil }
            return error
        }
        return nil
    }

    private func publishDeadLetter(subject: String, headers original: NATSHeaders?, payload: [UInt8], sequence: UInt64, deliveries: UInt64,
                                   reason: String, error: String?, policy: JetStreamDeadLetterPolicy) async throws(JetStreamError) {
        var headers = NATSHeaders()
        for (headerName, value) in original ?? NATSHeaders() where !headerName.lowercased().hasPrefix("nats-") {
            headers.append(value, for: headerName)
        }
        headers[JetStreamDeadLetterPolicy.streamHeader] = stream
        headers[JetStreamDeadLetterPolicy.consumerHeader] = name
        headers[JetStreamDeadLetterPolicy.subjectHeader] = subject
        headers[JetStreamDeadLetterPolicy.sequenceHeader] = String(sequence)
        headers[JetStreamDeadLetterPolicy.deliveriesHeader] = String(deliveries)
        headers[JetStreamDeadLetterPolicy.reasonHeader] = reason
        if let error {
            // Header values are one line; keep the error short and printable.
            let line = error.map { $0 == "\r" || $0 == "\n" ? " " : $0 }
            headers[JetStreamDeadLetterPolicy.errorHeader] = String(String(line).prefix(512))
        }
        try await context.publish(payload, to: policy.subject(stream, name), headers: headers,
                                  options: JetStreamPublishOptions(messageID: "dlq-\(stream)-\(sequence)"))
    }
}
