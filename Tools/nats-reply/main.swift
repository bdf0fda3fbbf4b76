// nats-reply SUBJECT [BODY]: answer requests, like `nats reply`. Parsing and formatting live in
// ToolSupport (ReplyCommand, MessageFormat); this file only drives the client.
import ToolSupport
import TributaryNATS

let command = Tool.parseCommandLine(ReplyCommand.self)
let tool = Tool(name: ReplyCommand.spec.name)

await tool.run {
    let client = await tool.connect(command.connection)
    tool.reportConnectionEvents(of: client)
    let style = MessageFormat.Style(showReply: false)
    var received = 0
    do throws(NATSError) {
        let subscription = try client.subscribe(to: command.subject, queue: command.queue)
        if let count = command.count { try subscription.unsubscribe(after: count) }
        try await client.flush()
        tool.status(command.listeningLine)
        for try await request in subscription {
            received += 1
            if !command.quiet {
                StandardStreams.writeOutput(MessageFormat.message(request, number: received, style: style))
            }
            if request.replyTo == nil {
                tool.warn("message #\(received) on \(MessageFormat.quoted(request.subject)) has no reply subject; not answered")
            } else {
                let response = command.response(to: request, number: received)
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
