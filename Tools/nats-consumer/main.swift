// nats-consumer COMMAND: manage JetStream pull consumers, like `nats consumer`. Parsing and
// formatting live in JetStreamToolSupport (ConsumerToolCommand, JetStreamToolFormat).
import JetStreamToolSupport
import ToolSupport
import TributaryJetStream
import TributaryNATS

let command = JetStreamTool.parseCommandLine(ConsumerToolCommand.commands) { (name, arguments, environment) throws(UsageError) in
    try ConsumerToolCommand(name, arguments, environment: environment)
}
let tool = Tool(name: "nats-consumer")

func printLines(_ lines: [String]) {
    StandardStreams.writeOutput(Array((lines.joined(separator: "\n") + "\n").utf8))
}

func perform(_ js: JetStreamContext) async throws(JetStreamError) {
    switch command.action {
    case .add(let stream, let config):
        let consumer = try await js.createConsumer(stream: stream, config: config)
        tool.status("Consumer \(stream) > \(consumer.name) was created")
        if let info = consumer.cachedInfo { printLines([""] + JetStreamToolFormat.consumerInfo(info)) }
    case .info(let stream, let name, let json):
        let info = try await js.consumerInfo(stream: stream, name: name)
        if json { StandardStreams.writeOutput(JetStreamToolFormat.json(info)) } else { printLines(JetStreamToolFormat.consumerInfo(info)) }
    case .list(let stream, let namesOnly):
        if namesOnly {
            printLines(try await js.consumerNames(stream: stream).sorted())
        } else {
            printLines(JetStreamToolFormat.consumerList(try await js.consumers(stream: stream)))
        }
    case .remove(let stream, let name):
        try await js.deleteConsumer(stream: stream, name: name)
        tool.status("Consumer \(stream) > \(name) was deleted")
    case .next(let stream, let name, let count, let wait, let noAck):
        let consumer = try js.consumer(stream: stream, name: name)
        let messages = try await consumer.fetch(count, expires: wait)
        if messages.isEmpty { tool.status("No messages within \(DurationSyntax.format(wait))") }
        for message in messages {
            StandardStreams.writeOutput(JetStreamToolFormat.consumedMessage(message))
            if !noAck { try await message.doubleAck() }
        }
        if !noAck, !messages.isEmpty { tool.status("Acknowledged \(messages.count) message\(messages.count == 1 ? "" : "s")") }
    }
}

await tool.run {
    let client = await tool.connect(command.connection)
    var options = JetStreamOptions()
    options.requestTimeout = command.connection.timeout
    do throws(JetStreamError) {
        let js = try JetStreamContext(client: client, options: options)
        try await perform(js)
    } catch {
        await client.close()
        if Task.isCancelled { return .success }
        tool.fail(error.message, exitCode: JetStreamTool.exitCode(for: error))
    }
    await client.close()
    return .success
}
