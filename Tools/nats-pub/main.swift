// nats-pub SUBJECT [BODY]: publish messages, like `nats pub` (and `nats pub --jetstream`).
// Parsing and formatting live in ToolSupport (PublishCommand, MessageFormat); this file only
// drives the client.
import JetStreamToolSupport
import ToolSupport
import TributaryJetStream
import TributaryNATS

let command = Tool.parseCommandLine(PublishCommand.self)
let tool = Tool(name: PublishCommand.spec.name)

/// Publishes one message with the command's reply subject and headers (waiting for room when
/// the outbound buffer is full). With `--jetstream` it waits for the stream's acknowledgement,
/// prints it, and ends the tool on a JetStream failure.
func publish(_ client: NATSClient, _ payload: [UInt8], jetStream: JetStreamContext?) async throws(NATSError) {
    guard let jetStream else {
        try await client.publishWaiting(payload, to: command.subject, replyTo: command.replyTo, headers: command.headers)
        return
    }
    do throws(JetStreamError) {
        let ack = try await jetStream.publish(payload, to: command.subject, headers: command.headers)
        if !command.quiet {
            tool.status(MessageFormat.published(bytes: payload.count, subject: command.subject))
            tool.status(MessageFormat.stored(stream: ack.stream, sequence: ack.sequence, domain: ack.domain, duplicate: ack.isDuplicate))
        }
    } catch {
        try? await client.flush()
        tool.fail(error.message, exitCode: JetStreamTool.exitCode(for: error))
    }
}

/// Publishes BODY `--count` times; returns the number of bytes sent.
func publishBody(_ client: NATSClient, _ body: BodyTemplate, jetStream: JetStreamContext?) async throws(NATSError) -> (messages: Int, bytes: Int) {
    var bytes = 0
    var messages = 0
    for number in 1...command.count {
        if Task.isCancelled { break }
        let payload = Array(body.render(count: number).utf8)
        try await publish(client, payload, jetStream: jetStream)
        messages += 1
        bytes += payload.count
        if let sleep = command.sleep, number < command.count {
            try? await Task.sleep(for: sleep)
        }
    }
    return (messages, bytes)
}

/// Publishes each stdin line as one message until end of input (or Ctrl-C).
func publishLines(_ client: NATSClient, jetStream: JetStreamContext?) async throws(NATSError) {
    if StandardStreams.inputIsTerminal && !command.quiet {
        tool.status("Reading payload from STDIN, one message per line; end with Ctrl-D")
    }
    var splitter = LineSplitter()
    var first = true
    func send(_ line: [UInt8]) async throws(NATSError) {
        if !first, let sleep = command.sleep { try? await Task.sleep(for: sleep) }
        first = false
        try await publish(client, line, jetStream: jetStream)
        if !command.quiet, jetStream == nil { tool.status(MessageFormat.published(bytes: line.count, subject: command.subject)) }
    }
    while true {
        let chunk: [UInt8]?
        do {
            chunk = try await StandardStreams.readInput()
        } catch {
            try? await client.flush()
            tool.fail(error.description, exitCode: .failure)
        }
        guard let chunk else { break }
        splitter.append(chunk)
        while let line = splitter.nextLine() { try await send(line) }
    }
    if let last = splitter.finish() { try await send(last) }
}

await tool.run {
    let client = await tool.connect(command.connection)
    var jetStream: JetStreamContext?
    if command.jetstream {
        var options = JetStreamOptions()
        options.requestTimeout = command.connection.timeout
        do throws(JetStreamError) {
            jetStream = try JetStreamContext(client: client, options: options)
        } catch {
            tool.fail(error.message, exitCode: JetStreamTool.exitCode(for: error))
        }
    }
    do throws(NATSError) {
        if let body = command.body {
            let sent = try await publishBody(client, body, jetStream: jetStream)
            try await client.flush()
            if !command.quiet, jetStream == nil || command.count > 1 {
                if command.count == 1 {
                    tool.status(MessageFormat.published(bytes: sent.bytes, subject: command.subject))
                } else {
                    tool.status(MessageFormat.publishedSummary(messages: sent.messages, bytes: sent.bytes, subject: command.subject))
                }
            }
        } else {
            try await publishLines(client, jetStream: jetStream)
            try await client.flush()
        }
    } catch {
        // Confirm what was accepted before the failure, then report the failure itself.
        try? await client.flush()
        tool.fail(error)
    }
    await client.close()
    return .success
}
