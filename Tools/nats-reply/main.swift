// nats-reply SUBJECT [BODY]: answer requests, like `nats reply`. Parsing and formatting live in
// ToolSupport (ReplyCommand, MessageFormat); this file only drives the client.
import ToolSupport
import TributaryNATS

let command = Tool.parseCommandLine(ReplyCommand.self)
let tool = Tool(name: ReplyCommand.spec.name)

/// The reply to `request` (number `number`): BODY, echo, or the output of `--command`.
func answer(_ request: NATSMessage, number: Int) async -> (payload: [UInt8], headers: NATSHeaders?) {
    let context = BodyTemplate.Context.now()
    if let response = command.response(to: request, number: number, context: context) { return response }
    let line = command.commandLine(for: request.subject) ?? ""
    let environment = ["NATS_REQUEST_SUBJECT": request.subject,
                       "NATS_REQUEST_BODY": String(decoding: request.payload, as: UTF8.self)]
    let headers = command.headers?.render(count: number, context: context)
    do throws(ShellCommand.LaunchError) {
        let outcome = try await ShellCommand.run(line, input: request.payload, environment: environment)
        if outcome.status != 0 {
            tool.warn("command \(MessageFormat.quoted(line)) exited with status \(outcome.status); replying with its output")
        }
        return (outcome.output, headers)
    } catch {
        tool.warn("command \(MessageFormat.quoted(line)) could not run: \(error.message); replying with an empty body")
        return ([], headers)
    }
}

await tool.run {
    let client = await tool.connect(command.connection)
    tool.reportConnectionEvents(of: client)
    let style = MessageFormat.Style(showReply: false)
    var received = 0
    do throws(NATSError) {
        let subscription = try client.subscribe(to: command.subject, queue: command.queue)
        if let count = command.count { try subscription.unsubscribe(after: count) }
        try await client.flush()
        if command.echoByDefault, !command.quiet { tool.status("No body or command supplied, enabling echo mode") }
        tool.status(command.listeningLine)
        for try await request in subscription {
            received += 1
            if !command.quiet {
                StandardStreams.writeOutput(MessageFormat.message(request, number: received, style: style))
            }
            if let sleep = command.sleep, sleep > .zero {
                let nanoseconds = sleep.components.seconds * 1_000_000_000 + sleep.components.attoseconds / 1_000_000_000
                try? await Task.sleep(for: .nanoseconds(Int64.random(in: 0...nanoseconds)))
            }
            if request.replyTo == nil {
                tool.warn("message #\(received) on \(MessageFormat.quoted(request.subject)) has no reply subject; not answered")
            } else {
                let response = await answer(request, number: received)
                try client.respond(to: request, with: response.payload, headers: response.headers)
            }
            if let count = command.count, received >= count { break }
        }
        // Make sure the last replies reached the server before exiting.
        try await client.flush()
    } catch {
        if !Task.isCancelled { tool.fail(error) }
    }
    if let count = command.count, received < count, !Task.isCancelled {
        tool.fail("the connection closed after \(received) of \(count) requests", exitCode: .connection)
    }
    await client.close()
    return .success
}
