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

/// Replies seen so far for one request, shared by the reading task and the timer.
struct Gathered {
    var received = 0
    var totalRoundTrip: Duration = .zero
    var deadline: ContinuousClock.Instant
    var noResponders = false
}

/// Holds `Gathered` for the tasks of one request.
final class GatheredBox: Sendable {
    let state: Mutex<Gathered>
    init(_ gathered: Gathered) { state = Mutex(gathered) }
    func withLock<T: Sendable>(_ body: (inout Gathered) -> T) -> T { state.withLock { body(&$0) } }
}

/// One request whose replies arrive on a plain subscription to a fresh inbox (`--replies` N
/// other than 1, or 0 for every reply until `--timeout`).
func requestMany(_ client: NATSClient, _ payload: [UInt8], headers: NATSHeaders?) async throws(NATSError) {
    let inbox = client.newInbox()
    let subscription = try client.subscribe(to: inbox)
    defer { subscription.unsubscribe() }
    let clock = ContinuousClock()
    try await client.publishWaiting(payload, to: command.subject, replyTo: inbox, headers: headers)
    let start = clock.now
    let state = GatheredBox(Gathered(deadline: start + command.connection.timeout))
    let wanted = command.replies
    let failure: NATSError? = await withTaskGroup(of: NATSError?.self) { group in
        group.addTask {
            do throws(NATSError) {
                for try await reply in subscription {
                    if reply.headers?.status == 503 {
                        state.withLock { $0.noResponders = true }
                        return nil
                    }
                    let rtt = clock.now - start
                    printReply(reply, rtt: rtt)
                    let received = state.withLock { gathered -> Int in
                        gathered.received += 1
                        gathered.totalRoundTrip += rtt
                        if let gap = command.gapAfterReply(received: gathered.received, totalRoundTrip: gathered.totalRoundTrip) {
                            gathered.deadline = clock.now + gap
                        }
                        return gathered.received
                    }
                    if wanted > 0, received >= wanted { return nil }
                }
                return nil
            } catch {
                return error
            }
        }
        group.addTask {
            // A timer whose deadline moves with every reply.
            while !Task.isCancelled {
                let deadline = state.withLock { $0.deadline }
                if clock.now >= deadline { return nil }
                try? await Task.sleep(until: deadline, clock: clock)
            }
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
    if let failure, !Task.isCancelled { throw failure }
    let outcome = state.withLock { $0 }
    if outcome.noResponders, outcome.received == 0 {
        throw NATSError(.noResponders, "no responders on '\(command.subject)'", subject: command.subject)
    }
    if outcome.received == 0, !Task.isCancelled {
        throw NATSError(.timeout, "no reply on '\(command.subject)'", subject: command.subject)
    }
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
