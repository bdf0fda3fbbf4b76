// nats-req SUBJECT [BODY]: send requests and print the replies, like `nats request`. Parsing
// and formatting live in ToolSupport (RequestCommand, MessageFormat); this file drives the client.
import Synchronization
import ToolSupport
import TributaryNATS

let command = Tool.parseCommandLine(RequestCommand.self)
let tool = Tool(name: RequestCommand.spec.name)

/// Prints one reply (headers and payload on stdout, rtt on stderr; only the payload with --raw).
func printReply(_ reply: NATSMessage, rtt: Duration) {
    if command.raw {
        StandardStreams.writeOutput(reply.payload + [UInt8(ascii: "\n")])
    } else {
        tool.status(RequestCommand.receivedLine(rtt: rtt))
        StandardStreams.writeOutput(MessageFormat.body(reply))
    }
}

/// One request answered by the first reply (`--replies 1`, the default).
func requestOne(_ client: NATSClient, _ payload: [UInt8], headers: NATSHeaders?) async throws(NATSError) {
    let clock = ContinuousClock()
    let start = clock.now
    let reply = try await client.request(payload, to: command.subject, headers: headers, timeout: command.connection.timeout)
    printReply(reply, rtt: clock.now - start)
}

/// A one-shot timer that can be moved: arming it again replaces the pending action.
final class ReplyTimer: Sendable {
    private let pending = Mutex<Task<Void, Never>?>(nil)

    /// Runs `action` at `deadline` unless re-armed or cancelled before.
    func arm(at deadline: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) {
        let task = Task {
            do {
                try await Task.sleep(until: deadline, clock: .continuous)
                action()
            } catch {
                // Re-armed or cancelled.
            }
        }
        pending.withLock { previous in
            previous?.cancel()
            previous = task
        }
    }

    /// Drops the pending action.
    func cancel() {
        pending.withLock { previous in
            previous?.cancel()
            previous = nil
        }
    }
}

/// One request whose replies arrive on a plain subscription to a fresh inbox (`--replies` N
/// other than 1, or 0 for every reply until `--timeout`). The wait ends at `--timeout` after the
/// request, or once no reply came within the average round trip plus `--reply-timeout`.
func requestMany(_ client: NATSClient, _ payload: [UInt8], headers: NATSHeaders?) async throws(NATSError) {
    let inbox = client.newInbox()
    let subscription = try client.subscribe(to: inbox)
    let timer = ReplyTimer()
    defer {
        timer.cancel()
        subscription.unsubscribe()
    }
    let clock = ContinuousClock()
    try await client.publishWaiting(payload, to: command.subject, replyTo: inbox, headers: headers)
    let start = clock.now
    // Unsubscribing ends the loop below once what already arrived was handled.
    timer.arm(at: start + command.connection.timeout) { subscription.unsubscribe() }
    var received = 0
    var totalRoundTrip: Duration = .zero
    var noResponders = false
    for try await reply in subscription {
        if reply.headers?.status == 503 {
            noResponders = true
            break
        }
        let rtt = clock.now - start
        printReply(reply, rtt: rtt)
        received += 1
        totalRoundTrip += rtt
        if command.replies > 0, received >= command.replies { break }
        if let gap = command.gapAfterReply(received: received, totalRoundTrip: totalRoundTrip) {
            timer.arm(at: clock.now + gap) { subscription.unsubscribe() }
        }
    }
    if Task.isCancelled || received > 0 { return }
    if noResponders {
        throw NATSError(.noResponders, "no responders on '\(command.subject)'", subject: command.subject)
    }
    throw NATSError(.timeout, "no reply on '\(command.subject)'", subject: command.subject)
}

/// The body when BODY is absent: the whole of stdin.
func readStdinBody() async -> [UInt8] {
    if StandardStreams.inputIsTerminal && !command.raw {
        tool.status("Reading payload from STDIN; end with Ctrl-D")
    }
    var input: [UInt8] = []
    do {
        while let chunk = try await StandardStreams.readInput() { input += chunk }
    } catch {
        tool.fail(error.description, exitCode: .failure)
    }
    return input
}

await tool.run {
    let body: BodyTemplate
    if let given = command.body {
        body = given
    } else {
        let bytes = await readStdinBody()
        if Task.isCancelled { return .success }
        body = command.stdinBody(bytes)
    }
    let client = await tool.connect(command.connection)
    do throws(NATSError) {
        for number in 1...command.count {
            if Task.isCancelled { break }
            let context = BodyTemplate.Context.now()
            let payload = body.render(count: number, context: context)
            let headers = command.headers?.render(count: number, context: context)
            if !command.raw { tool.status(command.sendingLine) }
            if command.replies == 1 {
                try await requestOne(client, payload, headers: headers)
            } else {
                try await requestMany(client, payload, headers: headers)
            }
        }
    } catch {
        if !Task.isCancelled {
            let failure = command.failure(error)
            tool.fail(failure.message, exitCode: failure.exitCode)
        }
    }
    await client.close()
    return .success
}
