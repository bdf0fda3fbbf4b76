// nats-stream COMMAND: manage JetStream streams, like `nats stream`. Parsing and formatting live
// in JetStreamToolSupport (StreamToolCommand, JetStreamToolFormat); this file drives the client.
import JetStreamToolSupport
import ToolSupport
import TributaryJetStream
import TributaryNATS

let command = JetStreamTool.parseCommandLine(StreamToolCommand.commands) { (name, arguments, environment) throws(UsageError) in
    try StreamToolCommand(name, arguments, environment: environment)
}
let tool = Tool(name: "nats-stream")

func printLines(_ lines: [String]) {
    StandardStreams.writeOutput(Array((lines.joined(separator: "\n") + "\n").utf8))
}

func perform(_ js: JetStreamContext) async throws(JetStreamError) {
    switch command.action {
    case .add(let config):
        let info = try await js.createStream(config)
        tool.status("Stream \(config.name) was created")
        printLines([""] + JetStreamToolFormat.streamInfo(info))
    case .info(let name, let json):
        let info = try await js.streamInfo(name)
        if json { StandardStreams.writeOutput(JetStreamToolFormat.json(info)) } else { printLines(JetStreamToolFormat.streamInfo(info)) }
    case .list(let namesOnly, let subject):
        if namesOnly {
            printLines(try await js.streamNames(subject: subject).sorted())
        } else {
            printLines(JetStreamToolFormat.streamList(try await js.streams(subject: subject)))
        }
    case .remove(let name):
        try await js.deleteStream(name)
        tool.status("Stream \(name) was deleted")
    case .purge(let name, let subject, let sequence, let keep):
        let purged = try await js.purgeStream(name, subject: subject, keep: keep, upToSequence: sequence)
        tool.status("Purged \(purged) messages from \(name)")
    case .get(let name, let sequence, let lastFor):
        let message = if let lastFor {
            try await js.getLastMessage(stream: name, subject: lastFor)
        } else {
            try await js.getMessage(stream: name, sequence: sequence ?? 0)
        }
        StandardStreams.writeOutput(JetStreamToolFormat.storedMessage(message, stream: name))
    case .view(let name, let count, let start, let subject):
        var options = JetStreamOrderedConsumerOptions()
        if let start {
            options.deliverPolicy = .byStartSequence
            options.startSequence = start
        }
        if let subject { options.filterSubjects = [subject] }
        options.batch = min(count, 500)
        let info = try await js.streamInfo(name)
        guard info.state.messages > 0 else {
            tool.status("Stream \(name) has no messages")
            return
        }
        let ordered = try js.orderedConsumer(stream: name, options: options)
        var shown = 0
        var iterator = ordered.makeAsyncIterator()
        while let message = try await iterator.next() {
            let stored = JetStreamStoredMessage(subject: message.subject, sequence: message.metadata?.streamSequence ?? 0,
                                                headers: message.headers, payload: message.payload,
                                                time: message.metadata.map { JetStreamToolFormat.time(nanoseconds: $0.timestampNanoseconds) } ?? "")
            StandardStreams.writeOutput(JetStreamToolFormat.storedMessage(stored, stream: name))
            shown += 1
            if shown == count || message.metadata?.pending == 0 { break }
        }
        await ordered.close()
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
