import TributaryNATSProtocol
import TributaryTransport
import TributaryWire

/// Parses server frames and routes them through the machine, in one lock section per batch;
/// subscriptions are fed and waiters resumed after the lock is released.
struct InboundRouter {
    /// Runs of consecutive messages for one subscription: (subscription, index of the run's first message).
    private var runs: [(subscription: NATSSubscription, start: Int)] = []
    private var messages: [NATSMessage] = []
    private var responses: [(Waiter, NATSMessage)] = []
    private var finished: [NATSSubscription] = []

    /// Parses every complete frame in `parser` and routes it. Returns the machine's actions for
    /// frames other than messages (PONGs, INFO, errors, the handshake).
    ///
    /// Parsing happens under the lock so that frames move straight from the read buffer to
    /// their subscription without intermediate copies.
    mutating func route(parser: inout NATSParser, core: ConnectionCore, stream: any TransportStream) -> [ConnectionMachine.Action] {
        var actions: [ConnectionMachine.Action] = []
        let now = core.clock.now()
        core.state.withLock { s in
            var parsed = 0
            parse: while parsed < 8192 {
                let more: [ConnectionMachine.Action]
                do throws(NATSProtocolError) {
                    // Switching on the parser's result itself (no named copy of the frame): a
                    // message's fields move into its subscription's batch without being copied.
                    switch try parser.next() {
                    case nil:
                        break parse
                    case .msg(let message)?:
                        parsed += 1
                        guard s.machine.isConnected else {
                            // The handshake's machine takes it (no `where` on the case: a failed
                            // condition would make the frame be copied for the next case).
                            more = s.machine.received(.msg(message), now: now)
                            break
                        }
                        switch s.machine.messageReceived(sid: message.sid, subject: message.subject, status: message.status) {
                        case .subscriber(let subscription, let last):
                            if runs.last?.subscription !== subscription { runs.append((subscription, messages.count)) }
                            messages.append(message)
                            if last { finished.append(subscription) }
                        case .response(let waiter):
                            responses.append((waiter, message))
                        case .failedRequest(let waiter, let error):
                            actions.append(.fail(waiter, error))
                        case .drop:
                            break
                        }
                        continue parse
                    case let other?:
                        parsed += 1
                        more = s.machine.received(other, now: now)
                    }
                } catch {
                    actions += s.machine.connectionLost(NATSError(.protocolError, error.description, server: stream.peerAddress, underlying: error), now: now)
                    break
                }
                actions += more
                for action in more {
                    // The connection is gone: what follows in the buffer belongs to it.
                    if case .closeStream = action { break parse }
                }
            }
            if s.machine.isConnected, s.stream == nil, !s.streamCloseRequested { s.stream = stream }
            parser.maxPayload = s.machine.maxPayload
        }
        deliver(core: core, now: now)
        return actions
    }

    private mutating func deliver(core: ConnectionCore, now: MonotonicInstant) {
        // Runs of messages for one subscription go over in one call; a single run (the usual
        // case) hands its whole array over without copying messages.
        var reports: [(NATSSubscription, Int, Int)] = []
        if runs.count == 1, runs[0].subscription.deliverOnIOThread == nil {
            let subscription = runs[0].subscription
            let count = messages.count
            let dropped = subscription.enqueue(moving: &messages)
            if dropped > 0, let total = subscription.dropReport(dropped, now: now) { reports.append((subscription, total.recent, total.all)) }
            // The array handed back may be a consumer's small one: size it for a batch like
            // this one now, in one allocation, instead of growing it message by message.
            if messages.capacity < count { messages.reserveCapacity(count) }
        } else {
            for (index, run) in runs.enumerated() {
                let end = index + 1 < runs.count ? runs[index + 1].start : messages.count
                if let inline = run.subscription.deliverOnIOThread {
                    for position in run.start..<end { inline(messages[position]) }
                    continue
                }
                let dropped = run.subscription.enqueue(messages[run.start..<end])
                if dropped > 0, let total = run.subscription.dropReport(dropped, now: now) {
                    reports.append((run.subscription, total.recent, total.all))
                }
            }
        }
        runs.removeAll(keepingCapacity: true)
        messages.removeAll(keepingCapacity: true)
        for (subscription, recent, all) in reports {
            core.emit(.error(NATSError(.slowConsumer,
                "subscription '\(subscription.subject)' dropped \(recent) messages since the last report (\(all) in total): pending limit of \(subscription.maxPendingMessages) messages / \(subscription.maxPendingBytes) bytes reached; consume faster or raise maxPendingMessages/maxPendingBytes",
                server: core.state.withLock { $0.machine.currentEndpoint }, subject: subscription.subject)))
        }
        for (waiter, message) in responses { waiter.respond(message) }
        responses.removeAll(keepingCapacity: true)
        for subscription in finished { subscription.finish(error: nil) }
        finished.removeAll(keepingCapacity: true)
    }
}
