// nats-obj COMMAND: manage JetStream object stores, like `nats object`. Parsing and formatting
// live in JetStreamToolSupport (ObjectToolCommand, ObjectToolFormat); this file drives the client.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import JetStreamToolSupport
import Synchronization
import ToolSupport
import TributaryJetStream
import TributaryNATS

let command = JetStreamTool.parseCommandLine(ObjectToolCommand.commands) { (name, arguments, environment) throws(UsageError) in
    try ObjectToolCommand(name, arguments, environment: environment)
}
let tool = Tool(name: "nats-obj")

func printLines(_ lines: [String]) {
    StandardStreams.writeOutput(Array((lines.joined(separator: "\n") + "\n").utf8))
}

/// A progress line on stderr, redrawn at most 4 times a second, only when stderr is a terminal.
final class ProgressLine: Sendable {
    let enabled: Bool
    let total: UInt64?
    let start = ContinuousClock.now
    let lastDraw = Mutex<ContinuousClock.Instant?>(nil)

    init(enabled: Bool, total: UInt64?) {
        self.enabled = enabled && isatty(2) == 1
        self.total = total
    }

    func update(_ done: UInt64) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let due = lastDraw.withLock { last -> Bool in
            if let last, now - last < .milliseconds(250), done != total { return false }
            last = now
            return true
        }
        guard due else { return }
        let elapsed = Double((now - start).components.seconds) + Double((now - start).components.attoseconds) / 1e18
        let line = "\r\u{1B}[K" + ObjectToolFormat.progress(done: done, total: total, elapsed: elapsed)
        _ = line.withCString { write(2, $0, strlen($0)) }
    }

    func finish() {
        guard enabled else { return }
        _ = "\r\u{1B}[K".withCString { write(2, $0, strlen($0)) }
    }
}

func fileSize(_ path: String) -> UInt64? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return UInt64(info.st_size)
}

func perform(_ js: JetStreamContext) async throws(JetStreamError) {
    switch command.action {
    case .add(let config):
        let store = try await js.createObjectStore(config)
        tool.status("Object store \(config.bucket) was created")
        printLines([""] + ObjectToolFormat.status(try await store.status()))
    case .put(let bucket, let file, let name, let description, let headers, let showProgress):
        let store = try await js.objectStore(bucket)
        let progress = ProgressLine(enabled: showProgress, total: fileSize(file))
        let info = try await store.put(ObjectMeta(name: name, description: description, headers: headers), fileAt: file) { progress.update($0) }
        progress.finish()
        tool.status("Stored \(name) in bucket \(bucket): \(info.size) bytes in \(info.chunks) chunk(s)")
        printLines(ObjectToolFormat.objectInfo(info))
    case .get(let bucket, let name, let output, let showProgress):
        let store = try await js.objectStore(bucket)
        let total = try await store.info(name).size
        let progress = ProgressLine(enabled: showProgress, total: total)
        let info = try await store.get(name, toFile: output) { progress.update($0) }
        progress.finish()
        tool.status("Wrote \(info.size) bytes of \(name) to \(output) (digest checked)")
    case .info(let bucket, let name, let showDeleted):
        let store = try await js.objectStore(bucket)
        if let name {
            printLines(ObjectToolFormat.objectInfo(try await store.info(name, showDeleted: showDeleted)))
        } else {
            printLines(ObjectToolFormat.status(try await store.status()))
        }
    case .list(let bucket, let showDeleted):
        if let bucket {
            let infos = try await js.objectStore(bucket).list(showDeleted: showDeleted)
            if infos.isEmpty { tool.status("Bucket \(bucket) has no objects") } else { printLines(ObjectToolFormat.objectList(infos)) }
        } else {
            let names = try await js.objectStoreNames()
            if names.isEmpty { tool.status("No object stores") } else { printLines(names) }
        }
    case .remove(let bucket, let name):
        if let name {
            try await js.objectStore(bucket).delete(name)
            tool.status("Deleted \(name) from bucket \(bucket)")
        } else {
            try await js.deleteObjectStore(bucket)
            tool.status("Object store \(bucket) was deleted")
        }
    case .watch(let bucket, let includeHistory):
        let watcher = try await js.objectStore(bucket).watch(includeHistory: includeHistory)
        for try await event in watcher {
            switch event {
            case .info(let info): printLines([ObjectToolFormat.watchLine(info)])
            case .initialValuesDone: tool.status("Watching bucket \(bucket) for changes")
            }
        }
        await watcher.close()
    case .status(let bucket):
        printLines(ObjectToolFormat.status(try await js.objectStore(bucket).status()))
    case .seal(let bucket):
        try await js.objectStore(bucket).seal()
        tool.status("Object store \(bucket) was sealed")
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
