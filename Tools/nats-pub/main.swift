// nats-pub SUBJECT [BODY]: publish messages, like `nats pub` (and `nats pub --jetstream`).
// Parsing and formatting live in ToolSupport (PublishCommand, MessageFormat); this file only
// drives the client.
import JetStreamToolSupport
import ToolSupport
import TributaryJetStream
import TributaryNATS

let command = Tool.parseCommandLine(PublishCommand.self)
let tool = Tool(name: PublishCommand.spec.name)

/// Messages and bytes sent so far.
struct Sent {
    var messages = 0
    var bytes = 0
}

/// Per-message JetStream lines are printed for up to this many messages per body, as the nats
/// CLI does before it switches to a progress bar.
let perMessageLineLimit = 20

/// Publishes one message with the command's reply subject and headers (waiting for room when
/// the outbound buffer is full). With `--jetstream` it waits for the stream's acknowledgement,
/// prints it, and ends the tool on a JetStream failure.
func publish(_ client: NATSClient, _ payload: [UInt8], headers: NATSHeaders?, jetStream: JetStreamContext?) async throws(NATSError) {
    guard let jetStream else {
        try await client.publishWaiting(payload, to: command.subject, replyTo: command.replyTo, headers: headers)
        return
    }
    do throws(JetStreamError) {
        let ack = try await jetStream.publish(payload, to: command.subject, headers: headers)
        if !command.quiet, command.count <= perMessageLineLimit {
            tool.status(MessageFormat.published(bytes: payload.count, subject: command.subject))
            tool.status(MessageFormat.stored(stream: ack.stream, sequence: ack.sequence, domain: ack.domain, duplicate: ack.isDuplicate))
        }
    } catch {
        try? await client.flush()
        tool.fail(error.message, exitCode: JetStreamTool.exitCode(for: error))
    }
}

/// Publishes `body` `--count` times, rendering its placeholders (and the headers') per message.
func publishBody(_ client: NATSClient, _ body: BodyTemplate, jetStream: JetStreamContext?, sent: inout Sent) async throws(NATSError) {
    for number in 1...command.count {
        if Task.isCancelled { break }
        if sent.messages > 0, let sleep = command.sleep { try? await Task.sleep(for: sleep) }
        let context = BodyTemplate.Context.now()
        let payload = body.render(count: number, context: context)
        let headers = command.headers?.render(count: number, context: context)
        try await publish(client, payload, headers: headers, jetStream: jetStream)
        sent.messages += 1
        sent.bytes += payload.count
    }
}

/// The next chunk of stdin, nil at its end; a read error ends the tool.
func readChunk(_ client: NATSClient) async -> [UInt8]? {
    do {
        return try await StandardStreams.readInput()
    } catch {
        try? await client.flush()
        tool.fail(error.description, exitCode: .failure)
    }
}

/// `--send-on eof`: the whole of stdin is one body. Nothing is sent when interrupted before the end.
func publishAllOfStdin(_ client: NATSClient, jetStream: JetStreamContext?, sent: inout Sent) async throws(NATSError) {
    var input: [UInt8] = []
    while let chunk = await readChunk(client) { input += chunk }
    if Task.isCancelled {
        tool.warn("interrupted before the end of stdin; nothing published")
        return
    }
    try await publishBody(client, command.stdinBody(input), jetStream: jetStream, sent: &sent)
}

/// `--send-on newline`: each stdin line is one body, until end of input (or Ctrl-C).
func publishLines(_ client: NATSClient, jetStream: JetStreamContext?, sent: inout Sent) async throws(NATSError) {
    var splitter = LineSplitter()
    while let chunk = await readChunk(client) {
        splitter.append(chunk)
        while let line = splitter.nextLine() {
            try await publishBody(client, command.stdinBody(line), jetStream: jetStream, sent: &sent)
        }
    }
    if !Task.isCancelled, let last = splitter.finish() {
        try await publishBody(client, command.stdinBody(last), jetStream: jetStream, sent: &sent)
    }
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
    var sent = Sent()
    do throws(NATSError) {
        if let body = command.body {
            try await publishBody(client, body, jetStream: jetStream, sent: &sent)
        } else {
            if StandardStreams.inputIsTerminal && !command.quiet {
                tool.status(command.sendOn == .eof ? "Reading payload from STDIN; end with Ctrl-D"
                                                   : "Reading payload from STDIN, one message per line; end with Ctrl-D")
            }
            switch command.sendOn {
            case .eof: try await publishAllOfStdin(client, jetStream: jetStream, sent: &sent)
            case .newline: try await publishLines(client, jetStream: jetStream, sent: &sent)
            }
        }
        try await client.flush()
    } catch {
        // Confirm what was accepted before the failure, then report the failure itself.
        try? await client.flush()
        tool.fail(error)
    }
    if !command.quiet {
        if sent.messages > 1 {
            tool.status(MessageFormat.publishedSummary(messages: sent.messages, bytes: sent.bytes, subject: command.subject))
        } else if sent.messages == 1, jetStream == nil {
            tool.status(MessageFormat.published(bytes: sent.bytes, subject: command.subject))
        }
    }
    await client.close()
    return .success
}
