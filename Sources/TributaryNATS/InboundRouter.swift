import Foundation
import TributaryNATSProtocol

/// Routes parsed server frames to subscriptions, requests and flush waiters.
///
/// All state changes happen in one lock section per batch; continuations are resumed and
/// subscriptions fed after the lock is released.
struct InboundRouter {
    /// Runs of consecutive messages for one subscription: (subscription, index of the run's first message).
    private var runs: [(subscription: NATSSubscription, start: Int)] = []
    private var messages: [NATSMessage] = []
    private var responses: [(CheckedContinuation<Result<NATSMessage, NATSError>, Never>, Result<NATSMessage, NATSError>)] = []
    private var flushes: [CheckedContinuation<Result<Void, NATSError>, Never>] = []
    private var finished: [(NATSSubscription, NATSError?)] = []
    private var events: [NATSEvent] = []

    /// Parses every complete frame in `parser` and routes it, in one lock section.
    ///
    /// Parsing happens under the lock so that frames move straight from the read buffer to
    /// their subscription without intermediate copies.
    mutating func route(parser: inout NATSParser, core: ConnectionCore, endpoint: String) -> DisconnectReason? {
        var reason: DisconnectReason?
        var spaceWaiters = 0
        core.state.withLock { s in
            defer { spaceWaiters = s.takeSpaceWaiters() }
            var parsed = 0
            var lastSID: UInt64 = 0
            var lastRecord: SubRecord?
            while reason == nil, parsed < 8192 {
                let op: NATSServerOp
                do throws(NATSProtocolError) {
                    guard let next = try parser.next() else { break }
                    op = next
                } catch {
                    reason = .lost(NATSError(.protocolError, error.description, server: endpoint, underlying: error))
                    break
                }
                parsed += 1
                switch consume op {
                case .msg(let message):
                    // Consecutive messages for one sid (the usual case) skip the hash lookup.
                    let record: SubRecord
                    if let cached = lastRecord, lastSID == message.sid {
                        record = cached
                    } else {
                        guard let found = s.subs[message.sid] else { continue }
                        record = found
                        lastSID = message.sid
                        lastRecord = found
                    }
                    guard let subscription = record.subscription else {
                        routeResponse(message, state: &s, endpoint: endpoint)
                        continue
                    }
                    record.delivered += 1
                    if let max = record.max, record.delivered >= max {
                        s.subs[message.sid] = nil
                        lastRecord = nil
                        if record.delivered > max { continue }
                        finished.append((subscription, nil))
                    }
                    if runs.last?.subscription !== subscription {
                        runs.append((subscription, messages.count))
                    }
                    messages.append(message)
                case .ping:
                    // Written by the I/O loop right after routing (it takes the next chunk).
                    NATSEncoder.appendPong(into: &s.outbound)
                    s.appended += 6
                case .pong:
                    if let waiter = s.pongReceived() { flushes.append(waiter) }
                case .ok:
                    break
                case .info(let info):
                    s.info = info
                    s.maxPayload = info.maxPayload
                    let learned = ConnectionCore.learn(urls: info.connectURLs, into: &s.pool)
                    if !learned.isEmpty { events.append(.discoveredServers(learned)) }
                    if info.lameDuckMode { reason = .lameDuck }
                case .err(let text):
                    lastRecord = nil   // a permission error may remove subscriptions
                    let error = NATSError.from(serverError: text, server: endpoint)
                    if error.code == .permissionViolation {
                        handlePermissionViolation(error, text: text, state: &s)
                    } else if NATSServerErrorTable.classify(text).closesConnection {
                        reason = .lost(error)
                    } else {
                        events.append(.error(error))
                    }
                }
            }
        }
        core.releaseSpaceWaiters(spaceWaiters)
        // Deliver runs of messages for the same subscription in one call; a single run (the
        // usual case) hands its whole array over without copying messages.
        var dropped: [(NATSSubscription, Int)] = []
        if runs.count == 1, runs[0].subscription.handler == nil {
            let sub = runs[0].subscription
            let count = sub.enqueue(moving: &messages)
            if count > 0 { dropped.append((sub, count)) }
        } else {
            for (index, run) in runs.enumerated() {
                let end = index + 1 < runs.count ? runs[index + 1].start : messages.count
                if let handler = run.subscription.handler {
                    // Handler subscriptions run on this (the I/O) thread, in order.
                    for position in run.start..<end { handler(messages[position]) }
                    continue
                }
                let count = run.subscription.enqueue(messages[run.start..<end])
                if count > 0 { dropped.append((run.subscription, count)) }
            }
        }
        runs.removeAll(keepingCapacity: true)
        messages.removeAll(keepingCapacity: true)
        for (sub, count) in dropped {
            core.emit(.error(NATSError(.slowConsumer,
                                       "subscription '\(sub.subject)' dropped \(count) messages: pending limit of \(sub.maxPendingMessages) messages / \(sub.maxPendingBytes) bytes reached (\(sub.droppedCount) dropped in total); consume faster or raise maxPendingMessages/maxPendingBytes",
                                       server: endpoint, subject: sub.subject)))
        }
        for (continuation, result) in responses { continuation.resume(returning: result) }
        responses.removeAll(keepingCapacity: true)
        for waiter in flushes { waiter.resume(returning: .success(())) }
        flushes.removeAll(keepingCapacity: true)
        for (sub, error) in finished { sub.finish(error: error) }
        finished.removeAll(keepingCapacity: true)
        for event in events { core.emit(event) }
        events.removeAll(keepingCapacity: true)
        return reason
    }

    private mutating func routeResponse(_ message: NATSMessage, state s: inout CoreState, endpoint: String) {
        let prefixLength = s.inboxPrefix.utf8.count + 1
        guard message.subject.utf8.count > prefixLength else { return }
        let token = String(message.subject.dropFirst(prefixLength))
        guard let pending = s.pendingRequests.removeValue(forKey: token) else { return }
        if message.status == NATSStatusCode.noResponders {
            responses.append((pending.continuation, .failure(NATSError(.noResponders,
                "no responders for request to '\(pending.subject)': nothing subscribes to that subject; start a responder or check the subject",
                server: endpoint, subject: pending.subject))))
        } else {
            responses.append((pending.continuation, .success(message)))
        }
    }

    /// 'Permissions Violation for Publish to "x"' fails requests to x;
    /// 'Permissions Violation for Subscription to "x"' ends subscriptions on x (all requests when x is the inbox).
    private mutating func handlePermissionViolation(_ error: NATSError, text: String, state s: inout CoreState) {
        events.append(.error(error))
        let subject = Self.quotedSubject(in: text)
        let lower = text.lowercased()
        var failure = error
        failure.subject = subject
        if lower.contains("for publish") {
            guard let subject else { return }
            for (token, pending) in s.pendingRequests where pending.subject == subject {
                s.pendingRequests[token] = nil
                var requestError = failure
                requestError.message = "request to '\(subject)' refused: the server denies publish permission on it (\(text)); grant the permission or use another subject"
                responses.append((pending.continuation, .failure(requestError)))
            }
        } else if lower.contains("for subscription") {
            guard let subject else { return }
            if let mux = s.muxSID, s.subs[mux]?.subject == subject {
                s.subs[mux] = nil
                s.muxSID = nil
                for (_, pending) in s.pendingRequests {
                    var requestError = failure
                    requestError.message = "request to '\(pending.subject)' failed: the server denies subscribing to the reply inbox '\(subject)' (\(text)); allow subscribe on the inbox prefix or set inboxPrefix"
                    responses.append((pending.continuation, .failure(requestError)))
                }
                s.pendingRequests = [:]
                return
            }
            for (sid, record) in s.subs where record.subject == subject {
                s.subs[sid] = nil
                if let subscription = record.subscription { finished.append((subscription, failure)) }
            }
        }
    }

    static func quotedSubject(in text: String) -> String? {
        guard let open = text.firstIndex(of: "\"") else { return nil }
        let rest = text[text.index(after: open)...]
        guard let close = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<close])
    }
}
