// nats-bench: throughput and latency of the Tributary NATS client against a real server.
//
//   nats-bench MODE [SUBJECT] [--msgs N] [--size SIZE] [--clients N] [--csv FILE] [connection flags]
//   MODE: pub | pubsub [--handler] | req | jspub [--async [--window N]] | jsfetch [--batch N] | kv | obj
//   (JetStream modes create a fresh stream, memory storage unless --storage file, and delete it)
//
// Parsing lives in ToolSupport (BenchCommand, BenchReport). Prints a readable table, then one JSON line:
// {"mode":…,"msgs":…,"size":…,"secs":…,"rate":…,"p50_us":…,"p99_us":…,"cpu_user":…,"cpu_sys":…,"maxrss_kb":…}
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ToolSupport
import Synchronization
import TributaryJetStream
import TributaryNATS

struct BenchConfig {
    var mode = ""
    var msgs = 1_000_000
    var size = 16
    var subject = "bench.tributary"
    /// jspub: publish asynchronously with at most `window` acks pending.
    var async = false
    var window = 256
    /// jsfetch: messages per fetch.
    var batch = 500
    var fileStorage = false
    /// pub, pubsub: publishing connections.
    var clients = 1
    /// pub, pubsub: pause between publishes.
    var sleep: Duration?
    /// pubsub: count in a handler subscription instead of iterating.
    var handler = false
    /// kv: time the puts and gets on the main actor.
    var mainActor = false
}

let command = Tool.parseCommandLine(BenchCommand.self)
let tool = Tool(name: BenchCommand.spec.name)

/// The run's configuration, from the command line.
func parse() -> BenchConfig {
    var config = BenchConfig()
    config.mode = command.async ? "jspub-async" : command.mode
    config.msgs = command.messages
    config.size = command.size
    config.subject = command.subject
    config.async = command.async
    config.handler = command.handler
    config.mainActor = command.mainActor
    config.window = command.window
    config.batch = command.batch
    config.fileStorage = command.fileStorage
    config.clients = command.clients
    config.sleep = command.sleep
    return config
}

/// Messages done so far (all clients), for the progress line and a summary after Ctrl-C.
final class BenchProgress: Sendable {
    let done = Atomic<Int>(0)
    func add(_ count: Int = 1) { done.add(count, ordering: .relaxed) }
    var count: Int { done.load(ordering: .relaxed) }
}

let progress = BenchProgress()

/// Per-client results for --csv.
let samples = Mutex<[BenchSample]>([])

func record(_ sample: BenchSample) { samples.withLock { $0.append(sample) } }

/// Publishes `config.msgs` messages from `config.clients` connections (the first is `client`),
/// each its share, pausing `--sleep` between publishes; records one sample per client.
func publishConcurrently(_ client: NATSClient, _ config: BenchConfig, _ payload: [UInt8]) async throws {
    var connections = [client]
    for _ in 1..<max(config.clients, 1) { connections.append(try await NATSClient.connect(options(config))) }
    let share = config.msgs / connections.count
    let clock = ContinuousClock()
    /// One client's share: publish, pause, count; flush; record its sample.
    @Sendable func publish(_ index: Int, _ connection: NATSClient, count: Int) async throws {
        let start = clock.now
        var sent = 0
        var counted = 0
        // The shared progress counter and the cancellation flag are looked at every 64
        // messages, not per message: the loop should cost little beside the publish itself.
        defer { progress.add(sent - counted) }
        while sent < count {
            if sent & 63 == 0 {
                if Task.isCancelled { break }
                progress.add(sent - counted)
                counted = sent
            }
            try await connection.publishWaiting(payload, to: config.subject)
            sent += 1
            if let sleep = config.sleep { try? await Task.sleep(for: sleep) }
        }
        try await connection.flush(timeout: .seconds(60))
        record(BenchSample(clientID: "P\(index)", messages: sent, bytes: sent * payload.count, duration: clock.now - start))
    }
    if connections.count == 1 {
        // One client publishes from the calling task, without a task group in between.
        try await publish(0, client, count: config.msgs)
        return
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
        for (index, connection) in connections.enumerated() {
            let count = index == 0 ? config.msgs - share * (connections.count - 1) : share
            group.addTask { try await publish(index, connection, count: count) }
        }
        try await group.waitForAll()
    }
    for connection in connections.dropFirst() { await connection.close() }
}

func peakRSSKB() -> Int { ProcessResources.peakRSSKB() }

func cpuTimes() -> (user: Double, sys: Double) { ProcessResources.cpuTimes() }

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[Int(Double(sorted.count - 1) * p)]
}

func options(_ config: BenchConfig) -> NATSOptions {
    command.connection.natsOptions
}

func microseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
}

/// A fresh stream for one JetStream run, named so parallel runs never meet.
func freshStream(_ js: JetStreamContext, _ config: BenchConfig) async throws -> String {
    let name = "BENCH_\(UInt32.random(in: 0...UInt32.max))"
    _ = try await js.createStream(StreamConfig(name: name, subjects: [config.subject], storage: config.fileStorage ? .file : .memory))
    return name
}

/// Publishes `count` messages with at most `window` acks pending; returns when all are acked.
func fillAsync(_ js: JetStreamContext, _ config: BenchConfig, _ payload: [UInt8], count: Int) async throws {
    for _ in 0..<count {
        if Task.isCancelled { break }
        _ = try await js.publishAsync(payload, to: config.subject)
        progress.add()
    }
    try await js.waitForPendingPublishes()
}

/// The JetStream modes: jspub (sync), jspub-async, jsfetch.
func runJetStream(_ client: NATSClient, _ config: BenchConfig, _ payload: [UInt8], result: inout [String: Any]) async throws -> Duration {
    var jsOptions = JetStreamOptions()
    jsOptions.maxPendingAsyncPublishes = config.window
    jsOptions.requestTimeout = .seconds(10)
    let js = try JetStreamContext(client: client, options: jsOptions)
    let stream = try await freshStream(js, config)
    result["storage"] = config.fileStorage ? "file" : "memory"
    let clock = ContinuousClock()
    var elapsed: Duration = .zero
    switch config.mode {
    case "jspub":
        var latencies: [Double] = []
        latencies.reserveCapacity(config.msgs)
        let start = clock.now
        for _ in 0..<config.msgs {
            if Task.isCancelled { break }
            let t0 = clock.now
            _ = try await js.publish(payload, to: config.subject)
            latencies.append(microseconds(clock.now - t0))
            progress.add()
        }
        elapsed = clock.now - start
        latencies.sort()
        record(BenchSample(clientID: "P0", messages: latencies.count, bytes: latencies.count * payload.count, duration: elapsed,
                           latenciesMicroseconds: latencies))
        result["p50_us"] = (percentile(latencies, 0.5) * 10).rounded() / 10
        result["p99_us"] = (percentile(latencies, 0.99) * 10).rounded() / 10
    case "jspub-async":
        result["window"] = config.window
        let start = clock.now
        try await fillAsync(js, config, payload, count: config.msgs)
        elapsed = clock.now - start
        record(BenchSample(clientID: "P0", messages: progress.count, bytes: progress.count * payload.count, duration: elapsed))
    case "jsfetch":
        result["batch"] = config.batch
        try await fillAsync(js, config, payload, count: config.msgs)
        let consumer = try await js.createConsumer(stream: stream, config: ConsumerConfig(durableName: "bench", ackPolicy: .explicit,
                                                                                          maxAckPending: max(config.batch * 2, 1000)))
        var received = 0
        let cpuBefore = cpuTimes()
        let start = clock.now
        while received < config.msgs, !Task.isCancelled {
            let batch = try await consumer.fetch(min(config.batch, config.msgs - received), expires: .seconds(5))
            if batch.isEmpty { break }
            for message in batch { try message.ack() }
            received += batch.count
        }
        record(BenchSample(clientID: "S0", messages: received, bytes: received * payload.count, duration: clock.now - start))
        try await client.flush(timeout: .seconds(30))
        elapsed = clock.now - start
        // The consume phase alone (cpu_user/cpu_sys also count the fill).
        let cpuAfter = cpuTimes()
        result["cpu_user_consume"] = ((cpuAfter.user - cpuBefore.user) * 1000).rounded() / 1000
        result["cpu_sys_consume"] = ((cpuAfter.sys - cpuBefore.sys) * 1000).rounded() / 1000
        result["received"] = received
    default: break
    }
    // From a fresh task, so that a run stopped by Ctrl-C still removes its stream.
    let cleanup = Task { () throws -> Int in
        let stored = Int(try await js.streamInfo(stream).state.messages)
        try await js.deleteStream(stream)
        return stored
    }
    let stored: Int = try await cleanup.value
    result["stored"] = stored
    return elapsed
}

/// Object data made on the fly, a mebibyte at a time (so the bench's RSS is the client's, not the data's).
struct GeneratedObject: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let size: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let size: Int
        var sent = 0
        var block: [UInt8] = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        mutating func next() async -> [UInt8]? {
            guard sent < size else { return nil }
            let count = Swift.min(block.count, size - sent)
            block[0] = UInt8(truncatingIfNeeded: sent >> 20)
            sent += count
            return count == block.count ? block : Array(block[0..<count])
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(size: size) }
}

/// The kv mode: N sequential puts (keys k0…k99 in turn), then N sequential gets of those keys,
/// after 200 of each to warm up, on a fresh bucket (memory storage unless --storage file).
/// p50_us/p99_us are the puts'; put_*/get_* name each.
func runKeyValue(_ client: NATSClient, _ config: BenchConfig, _ payload: [UInt8], result: inout [String: Any]) async throws -> Duration {
    var jsOptions = JetStreamOptions()
    jsOptions.requestTimeout = .seconds(10)
    let js = try JetStreamContext(client: client, options: jsOptions)
    let bucket = "BENCHKV_\(UInt32.random(in: 0...UInt32.max))"
    var kvConfig = KeyValueConfig(bucket: bucket)
    kvConfig.storage = config.fileStorage ? .file : .memory
    let kv = try await js.createKeyValue(kvConfig)
    result["storage"] = config.fileStorage ? "file" : "memory"
    let keys = (0..<100).map { "k\($0)" }
    for index in 0..<200 {
        try await kv.put(keys[index % 100], payload)
        _ = try await kv.get(keys[index % 100])
    }
    let clock = ContinuousClock()
    let start = clock.now
    var (puts, gets) = try await timedKeyValueLoops(kv, keys: keys, payload: payload, count: config.msgs,
                                                   isolation: config.mainActor ? MainActor.shared : nil)
    result["main_actor"] = config.mainActor
    let elapsed = clock.now - start
    puts.sort()
    gets.sort()
    func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
    result["put_p50_us"] = rounded(percentile(puts, 0.5))
    result["put_p99_us"] = rounded(percentile(puts, 0.99))
    result["get_p50_us"] = rounded(percentile(gets, 0.5))
    result["get_p99_us"] = rounded(percentile(gets, 0.99))
    result["p50_us"] = result["put_p50_us"]
    result["p99_us"] = result["put_p99_us"]
    try await js.deleteKeyValue(bucket)
    return elapsed
}

/// The obj mode: put then get one object, --msgs times; returns the total time.
func runObject(_ client: NATSClient, _ config: BenchConfig, result: inout [String: Any]) async throws -> Duration {
    var jsOptions = JetStreamOptions()
    jsOptions.requestTimeout = .seconds(30)
    let js = try JetStreamContext(client: client, options: jsOptions)
    let bucket = "BENCHOBJ_\(UInt32.random(in: 0...UInt32.max))"
    var storeConfig = ObjectStoreConfig(bucket: bucket)
    storeConfig.storage = config.fileStorage ? .file : .memory
    let store = try await js.createObjectStore(storeConfig)
    result["storage"] = config.fileStorage ? "file" : "memory"
    let clock = ContinuousClock()
    var putTime: Duration = .zero
    var getTime: Duration = .zero
    var putCPU = (user: 0.0, sys: 0.0)
    var getCPU = (user: 0.0, sys: 0.0)
    for round in 0..<config.msgs {
        let c0 = cpuTimes()
        let t0 = clock.now
        let info = try await store.put(ObjectMeta(name: "bench-\(round)"), data: GeneratedObject(size: config.size))
        let t1 = clock.now
        let c1 = cpuTimes()
        var received = 0
        for try await chunk in try await store.get("bench-\(round)") { received += chunk.count }
        let t2 = clock.now
        let c2 = cpuTimes()
        guard received == config.size, info.size == UInt64(config.size) else {
            throw JetStreamError(.objectSizeMismatch, "round \(round): put \(info.size) bytes, got \(received) back")
        }
        putTime += t1 - t0
        getTime += t2 - t1
        putCPU = (putCPU.user + c1.user - c0.user, putCPU.sys + c1.sys - c0.sys)
        getCPU = (getCPU.user + c2.user - c1.user, getCPU.sys + c2.sys - c1.sys)
        try await store.delete("bench-\(round)")
    }
    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
    let bytes = Double(config.msgs) * Double(config.size)
    result["put_mbps"] = (bytes / seconds(putTime) / 1e6 * 10).rounded() / 10
    result["get_mbps"] = (bytes / seconds(getTime) / 1e6 * 10).rounded() / 10
    result["put_secs"] = (seconds(putTime) * 1e4).rounded() / 1e4
    result["get_secs"] = (seconds(getTime) * 1e4).rounded() / 1e4
    result["cpu_put"] = ((putCPU.user + putCPU.sys) * 1000).rounded() / 1000
    result["cpu_get"] = ((getCPU.user + getCPU.sys) * 1000).rounded() / 1000
    result["chunk"] = ObjectStore.defaultChunkSize
    try await js.deleteObjectStore(bucket)
    return putTime + getTime
}

func run(_ config: BenchConfig) async throws -> [String: Any] {
    let payload = [UInt8](repeating: 0x61, count: config.mode == "obj" ? 0 : config.size)
    var result: [String: Any] = ["mode": config.mode, "msgs": config.msgs, "size": config.size, "client": "tributary"]
    let client = try await NATSClient.connect(options(config))
    let clock = ContinuousClock()
    var elapsed: Duration = .zero
    switch config.mode {
    case "pub":
        let start = clock.now
        try await publishConcurrently(client, config, payload)
        elapsed = clock.now - start
    case "pubsub":
        let subscriber = try await NATSClient.connect(options(config))
        let target = config.msgs
        let sub: NATSSubscription
        let counter: Task<Int, Never>
        if config.handler {
            // A callback subscriber, as the peers' benchmarks use: counts on its handler queue.
            let (reached, reachedContinuation) = AsyncStream.makeStream(of: Void.self)
            let handled = Atomic<Int>(0)
            sub = try subscriber.subscribe(to: config.subject, maxPendingMessages: Int.max / 2, maxPendingBytes: Int.max / 2) { _ in
                if handled.add(1, ordering: .relaxed).newValue == target { reachedContinuation.finish() }
            }
            counter = Task { () -> Int in
                for await _ in reached {}
                return handled.load(ordering: .relaxed)
            }
        } else {
            sub = try subscriber.subscribe(to: config.subject, maxPendingMessages: Int.max / 2, maxPendingBytes: Int.max / 2)
            counter = Task { () -> Int in
                var got = 0
                do {
                    for try await _ in sub {
                        got += 1
                        if got == target { break }
                    }
                } catch {}
                return got
            }
        }
        try await subscriber.flush()
        let start = clock.now
        try await publishConcurrently(client, config, payload)
        let received = await withTaskGroup(of: Int?.self) { group -> Int in
            group.addTask { await counter.value }
            group.addTask {
                try? await Task.sleep(for: .seconds(30))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            counter.cancel()
            return first ?? -1
        }
        elapsed = clock.now - start
        result["received"] = received >= 0 ? received : config.msgs - sub.pendingCount
        result["dropped"] = sub.droppedCount
        let got = received >= 0 ? received : config.msgs - sub.pendingCount
        record(BenchSample(clientID: "S0", messages: got, bytes: got * payload.count, duration: elapsed))
        await subscriber.close()
    case "req":
        // The responder answers from a handler on its I/O thread (like the peers' callback responders).
        let responder = try await NATSClient.connect(options(config))
        _ = try responder.subscribe(to: config.subject) { message in
            try? responder.respond(to: message, with: message.payload)
        }
        try await responder.flush()
        for _ in 0..<200 { _ = try await client.request(payload, to: config.subject, timeout: .seconds(5)) }
        var latencies: [Double] = []
        latencies.reserveCapacity(config.msgs)
        let start = clock.now
        for _ in 0..<config.msgs {
            if Task.isCancelled { break }
            let t0 = clock.now
            _ = try await client.request(payload, to: config.subject, timeout: .seconds(5))
            let d = clock.now - t0
            latencies.append(Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12)
            progress.add()
        }
        elapsed = clock.now - start
        latencies.sort()
        record(BenchSample(clientID: "R0", messages: latencies.count, bytes: latencies.count * payload.count, duration: elapsed,
                           latenciesMicroseconds: latencies))
        result["p50_us"] = (percentile(latencies, 0.5) * 10).rounded() / 10
        result["p99_us"] = (percentile(latencies, 0.99) * 10).rounded() / 10
        await responder.close()
    case "jspub", "jspub-async", "jsfetch":
        elapsed = try await runJetStream(client, config, payload, result: &result)
    case "kv":
        elapsed = try await runKeyValue(client, config, payload, result: &result)
    case "obj":
        elapsed = try await runObject(client, config, result: &result)
    default: break
    }
    await client.close()
    // After Ctrl-C the counts are what was done.
    var config = config
    if Task.isCancelled {
        result["partial"] = true
        config.msgs = max(progress.count, 1)
        result["msgs"] = progress.count
    }
    let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let cpu = cpuTimes()
    result["secs"] = (secs * 1e4).rounded() / 1e4
    result["rate"] = (Double(config.msgs) / secs).rounded()
    result["mbps"] = ((Double(config.msgs) * Double(config.size) / secs / 1e6) * 10).rounded() / 10
    result["cpu_user"] = (cpu.user * 1000).rounded() / 1000
    result["cpu_sys"] = (cpu.sys * 1000).rounded() / 1000
    result["cpu_s_per_1m"] = (((cpu.user + cpu.sys) / Double(config.msgs) * 1e6) * 1000).rounded() / 1000
    result["maxrss_kb"] = peakRSSKB()
    return result
}

/// Keeps `pub: 12,345/100,000 msgs` on a terminal's stderr until the run ends.
func showProgress(_ config: BenchConfig) -> Task<Void, Never>? {
    guard command.progress, isatty(2) == 1 else { return nil }
    return Task {
        while !Task.isCancelled {
            StandardStreams.writeError(text: "\r" + BenchReport.progressLine(mode: config.mode, done: progress.count, total: config.msgs) + "\u{1B}[K")
            try? await Task.sleep(for: .milliseconds(250))
        }
        StandardStreams.writeError(text: "\r\u{1B}[K")
    }
}

/// Prints the table, the JSON line and the CSV file.
func report(_ result: [String: Any]) {
    let order = ["mode", "msgs", "size", "secs", "rate", "mbps", "received", "dropped", "stored", "storage", "window", "batch", "p50_us", "p99_us", "put_p50_us", "put_p99_us", "get_p50_us", "get_p99_us", "chunk", "put_secs", "put_mbps", "cpu_put", "get_secs", "get_mbps", "cpu_get", "cpu_user", "cpu_sys", "cpu_user_consume", "cpu_sys_consume", "cpu_s_per_1m", "maxrss_kb", "partial"]
    print("nats-bench (Tributary) on \(ProcessInfo.processInfo.activeProcessorCount) cores")
    for key in order {
        if let value = result[key] { print("  " + key + String(repeating: " ", count: max(1, 15 - key.count)) + "\(value)") }
    }
    // One JSON line, keys sorted (numbers, strings and booleans only).
    let members = result.keys.sorted().map { key -> String in
        let value = result[key]!
        let text = value is String ? "\"\(value)\"" : "\(value)"
        return "\"\(key)\":\(text)"
    }
    print("{" + members.joined(separator: ",") + "}")
    if let file = command.csvFile {
        let runID = String((0..<22).map { _ in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".randomElement()! })
        let text = BenchReport.csv(runID: runID, samples: samples.withLock { $0 })
        do throws(DumpError) {
            try DumpDirectory.write(Array(text.utf8), to: file)
        } catch {
            tool.fail("cannot save --csv: \(error.message)", exitCode: .failure)
        }
        tool.status("Saved metric data in csv file \(file)")
    }
}

let config = parse()
let work = Task { () -> ToolExitCode in
    let ticker = showProgress(config)
    do {
        let result = try await run(config)
        ticker?.cancel()
        await ticker?.value
        report(result)
        return .success
    } catch {
        ticker?.cancel()
        await ticker?.value
        if let error = error as? NATSError {
            tool.fail(error.message, exitCode: .forError(error))
        } else if let error = error as? JetStreamError {
            tool.fail(error.message, exitCode: error.isConnectionFatal ? .connection : .failure)
        }
        tool.fail("\(error)", exitCode: .failure)
    }
}
InterruptSignals.install { work.cancel() }
exit(await work.value.rawValue)

/// The timed loops of `runKeyValue`: `count` puts, then `count` gets, each one's latency in µs.
/// They run on `isolation`: nil off any actor, the main actor for `kv --main-actor` (each call's
/// result then has to come back to the main thread).
func timedKeyValueLoops(_ kv: KeyValue, keys: [String], payload: [UInt8], count: Int,
                        isolation: isolated (any Actor)?) async throws -> ([Double], [Double]) {
    let clock = ContinuousClock()
    var puts: [Double] = []
    var gets: [Double] = []
    puts.reserveCapacity(count)
    gets.reserveCapacity(count)
    for index in 0..<count {
        let t0 = clock.now
        try await kv.put(keys[index % 100], payload)
        puts.append(microseconds(clock.now - t0))
    }
    for index in 0..<count {
        let t0 = clock.now
        _ = try await kv.get(keys[index % 100])
        gets.append(microseconds(clock.now - t0))
    }
    return (puts, gets)
}
