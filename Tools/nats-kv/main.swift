// nats-kv COMMAND: use JetStream key-value buckets, like `nats kv`. Parsing and formatting live
// in JetStreamToolSupport (KeyValueToolCommand, KeyValueToolFormat); this file drives the client.
import JetStreamToolSupport
import ToolSupport
import TributaryJetStream
import TributaryNATS

let command = JetStreamTool.parseCommandLine(KeyValueToolCommand.commands) { (name, arguments, environment) throws(UsageError) in
    try KeyValueToolCommand(name, arguments, environment: environment)
}
let tool = Tool(name: "nats-kv")

func printLines(_ lines: [String]) {
    guard !lines.isEmpty else { return }
    StandardStreams.writeOutput(Array((lines.joined(separator: "\n") + "\n").utf8))
}

/// The value given, or all of stdin.
func valueOrInput(_ value: [UInt8]?) async -> [UInt8] {
    if let value { return value }
    var bytes: [UInt8] = []
    do {
        while let chunk = try await StandardStreams.readInput() { bytes += chunk }
    } catch {
        tool.fail("cannot read the value from stdin: \(error)", exitCode: .failure)
    }
    return bytes
}

func perform(_ js: JetStreamContext) async throws(KeyValueError) {
    switch command.action {
    case .add(let config):
        let kv = try await js.createKeyValue(config)
        tool.status("Bucket \(config.bucket) was created")
        printLines([""] + KeyValueToolFormat.status(try await kv.status()))
    case .put(let bucket, let key, let value):
        let bytes = await valueOrInput(value)
        try await js.keyValue(bucket).put(key, bytes)
        StandardStreams.writeOutput(bytes + [UInt8(ascii: "\n")])
    case .get(let bucket, let key, let revision, let raw):
        let kv = try await js.keyValue(bucket)
        let entry = if let revision { try await kv.get(key, revision: revision) } else { try await kv.get(key) }
        StandardStreams.writeOutput(raw ? entry.value : KeyValueToolFormat.entry(entry))
    case .create(let bucket, let key, let value):
        let bytes = await valueOrInput(value)
        try await js.keyValue(bucket).create(key, bytes)
        StandardStreams.writeOutput(bytes + [UInt8(ascii: "\n")])
    case .update(let bucket, let key, let value, let revision):
        try await js.keyValue(bucket).update(key, value, lastRevision: revision)
        StandardStreams.writeOutput(value + [UInt8(ascii: "\n")])
    case .delete(let bucket, let key):
        try await js.keyValue(bucket).delete(key)
        tool.status("Deleted key \(key) in bucket \(bucket)")
    case .purge(let bucket, let key):
        try await js.keyValue(bucket).purge(key)
        tool.status("Purged key \(key) in bucket \(bucket)")
    case .history(let bucket, let key):
        printLines(KeyValueToolFormat.history(try await js.keyValue(bucket).history(key)))
    case .keys(let bucket, let filters):
        let keys = try await js.keyValue(bucket).keys(matching: filters.isEmpty ? [">"] : filters)
        if keys.isEmpty { tool.status("No keys found in bucket \(bucket)") }
        printLines(keys)
    case .watch(let bucket, let key, let count):
        let watcher = try await js.keyValue(bucket).watch(keys: [key])
        var changes = 0
        var initialDone = false
        for try await event in watcher {
            switch event {
            case .initialValuesDone:
                initialDone = true
                tool.status("Watching bucket \(bucket) for changes to \(key)")
            case .entry(let entry):
                printLines([KeyValueToolFormat.watchLine(entry)])
                if initialDone { changes += 1 }
            }
            if let count, changes >= count { break }
        }
        await watcher.close()
    case .list(let namesOnly):
        if namesOnly {
            printLines(try await js.keyValueBucketNames())
        } else {
            let statuses = try await js.keyValueStatuses()
            if statuses.isEmpty { tool.status("No Key-Value buckets found") }
            printLines(KeyValueToolFormat.list(statuses))
        }
    case .remove(let bucket):
        try await js.deleteKeyValue(bucket)
        tool.status("Bucket \(bucket) was deleted")
    case .status(let bucket):
        printLines(KeyValueToolFormat.status(try await js.keyValue(bucket).status()))
    }
}

await tool.run {
    let client = await tool.connect(command.connection)
    var options = JetStreamOptions()
    options.requestTimeout = command.connection.timeout
    do throws(KeyValueError) {
        let js: JetStreamContext
        do throws(JetStreamError) {
            js = try JetStreamContext(client: client, options: options)
        } catch {
            throw KeyValueError(.jetStream, error.message, underlying: error)
        }
        try await perform(js)
    } catch {
        await client.close()
        if Task.isCancelled || error.code == .cancelled { return .success }
        let fatal = error.underlying?.isConnectionFatal ?? false
        tool.fail(error.message, exitCode: fatal ? .connection : .failure)
    }
    await client.close()
    return .success
}
