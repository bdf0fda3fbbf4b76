// nats-bench: throughput and latency of the Tributary NATS client against a real server.
//
//   nats-bench MODE [--msgs N] [--size BYTES] [-s URL] [--subject S]
//   MODE: pub | pubsub | req | jspub [--async [--window N]] | jsfetch [--batch N] | kv | obj
//   (JetStream modes create a fresh stream, memory storage unless --storage file, and delete it)
//
// Prints a readable table, then one JSON line:
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
    var server: String?
    var subject = "bench.tributary"
    var tlsCA: String?
    var tlsCert: String?
    var tlsKey: String?
    var tlsFirst = false
    var creds: String?
    var nkey: String?
    /// jspub: publish asynchronously with at most `window` acks pending.
    var async = false
    var window = 256
    /// jsfetch: messages per fetch.
    var batch = 500
    var fileStorage = false
}

/// Writes to standard error (descriptor 2) without Foundation.
func writeError(_ text: String) {
    var bytes = Array(text.utf8)
    _ = write(2, &bytes, bytes.count)
}

func usage(_ message: String? = nil) -> Never {
    if let message { writeError("nats-bench: \(message)\n") }
    let text = """
    usage: nats-bench pub|pubsub|req|jspub|jsfetch|kv|obj [--msgs N] [--size BYTES] [-s URL] [--subject S]
      pub     publish N messages on one connection, then flush (publish-only throughput)
      pubsub  publisher and subscriber on two connections; counts what arrives
      req     N sequential requests against a responder on a second connection (latency)
      jspub   N JetStream publishes, each waiting for its ack (latency; default N 10000);
              with --async at most --window acks pending (default 256; default N 100000)
      jsfetch fill a stream with N messages, then fetch them in --batch sized pulls (default
              500) from an explicit-ack pull consumer, acking each (consume throughput)
      kv      N sequential key-value puts, then N gets, on a fresh bucket (latency of each;
              default N 10000; keys k0..k99 in turn)
      obj     object store: put an object of --size bytes (default 64 MiB) from generated data,
              then get it back (digest checked), --msgs times (default 1), in a fresh bucket;
              reports put and get MB/s and CPU separately
      --storage memory|file   storage of the fresh stream JetStream modes create (default memory)
      -s, --server URL   server (default NATS_URL, else nats://127.0.0.1:4222)
      --creds FILE       user credentials (.creds) file (default NATS_CREDS)
      --nkey FILE        user NKEY seed file (default NATS_NKEY)
      --msgs N           message count (default 1000000; req: 20000)
      --size BYTES       payload size (default 16)
      --tlsca FILE, --tlscert FILE, --tlskey FILE, --tlsfirst   TLS, as the other nats tools
    Ends with one JSON line: mode, msgs, size, secs, rate, p50_us/p99_us (req, jspub, kv: the puts; kv adds get_p50_us/get_p99_us; obj: put/get MB/s), cpu_user, cpu_sys, maxrss_kb.
    """
    writeError(text + "\n")
    exit(message == nil ? 0 : 1)
}

func parse() -> BenchConfig {
    var config = BenchConfig()
    var args = Array(CommandLine.arguments.dropFirst())
    var msgsGiven = false
    var sizeGiven = false
    while !args.isEmpty {
        let arg = args.removeFirst()
        func value() -> String {
            guard !args.isEmpty else { usage("\(arg) needs a value") }
            return args.removeFirst()
        }
        switch arg {
        case "-h", "--help": usage()
        case "--msgs", "-n":
            guard let n = Int(value()), n > 0 else { usage("--msgs needs a positive integer") }
            config.msgs = n; msgsGiven = true
        case "--size":
            guard let n = Int(value()), n >= 0 else { usage("--size needs a non-negative integer") }
            config.size = n; sizeGiven = true
        case "-s", "--server": config.server = value()
        case "--creds": config.creds = value()
        case "--nkey": config.nkey = value()
        case "--subject": config.subject = value()
        case "--tlsca": config.tlsCA = value()
        case "--tlscert": config.tlsCert = value()
        case "--tlskey": config.tlsKey = value()
        case "--tlsfirst": config.tlsFirst = true
        case "--async": config.async = true
        case "--window":
            guard let n = Int(value()), n > 0 else { usage("--window needs a positive integer") }
            config.window = n
        case "--batch":
            guard let n = Int(value()), n > 0 else { usage("--batch needs a positive integer") }
            config.batch = n
        case "--storage":
            switch value() {
            case "memory": config.fileStorage = false
            case "file": config.fileStorage = true
            default: usage("--storage must be memory or file")
            }
        default:
            if arg.hasPrefix("-") || !config.mode.isEmpty { usage("unexpected argument '\(arg)'") }
            config.mode = arg
        }
    }
    guard ["pub", "pubsub", "req", "jspub", "jsfetch", "kv", "obj"].contains(config.mode) else { usage("mode must be pub, pubsub, req, jspub, jsfetch, kv or obj") }
    if config.mode == "kv" && !msgsGiven { config.msgs = 10_000 }
    if config.mode == "obj" && !msgsGiven { config.msgs = 1 }
    if config.mode == "obj" && !sizeGiven { config.size = 64 * 1024 * 1024 }
    if config.mode == "req" && !msgsGiven { config.msgs = 20_000 }
    if config.mode == "jspub" && !msgsGiven { config.msgs = config.async ? 100_000 : 10_000 }
    if config.mode == "jsfetch" && !msgsGiven { config.msgs = 100_000 }
    if config.async && config.mode != "jspub" { usage("--async applies to jspub only") }
    if config.mode == "jspub" && config.async { config.mode = "jspub-async" }
    return config
}

func peakRSSKB() -> Int { ProcessResources.peakRSSKB() }

func cpuTimes() -> (user: Double, sys: Double) { ProcessResources.cpuTimes() }

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[Int(Double(sorted.count - 1) * p)]
}

func options(_ config: BenchConfig) -> NATSOptions {
    var opts = NATSOptions()
    if let server = config.server { opts.servers = [server] }
    do {
        opts.credentials = try CredentialSettings(creds: config.creds, nkey: config.nkey,
                                                  environment: ProcessInfo.processInfo.environment).credentials
    } catch {
        usage(error.message)
    }
    opts.name = "nats-bench"
    if config.tlsCA != nil || config.tlsCert != nil || config.tlsFirst {
        var tls = TLSConfiguration(certificateFile: config.tlsCert, privateKeyFile: config.tlsKey)
        if let ca = config.tlsCA { tls.trustRoots = .caFile(ca) }
        opts.tls = tls
        opts.tlsHandshakeFirst = config.tlsFirst
    }
    return opts
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
    for _ in 0..<count { _ = try await js.publishAsync(payload, to: config.subject) }
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
            let t0 = clock.now
            _ = try await js.publish(payload, to: config.subject)
            latencies.append(microseconds(clock.now - t0))
        }
        elapsed = clock.now - start
        latencies.sort()
        result["p50_us"] = (percentile(latencies, 0.5) * 10).rounded() / 10
        result["p99_us"] = (percentile(latencies, 0.99) * 10).rounded() / 10
    case "jspub-async":
        result["window"] = config.window
        let start = clock.now
        try await fillAsync(js, config, payload, count: config.msgs)
        elapsed = clock.now - start
    case "jsfetch":
        result["batch"] = config.batch
        try await fillAsync(js, config, payload, count: config.msgs)
        let consumer = try await js.createConsumer(stream: stream, config: ConsumerConfig(durableName: "bench", ackPolicy: .explicit,
                                                                                          maxAckPending: max(config.batch * 2, 1000)))
        var received = 0
        let cpuBefore = cpuTimes()
        let start = clock.now
        while received < config.msgs {
            let batch = try await consumer.fetch(min(config.batch, config.msgs - received), expires: .seconds(5))
            if batch.isEmpty { break }
            for message in batch { try message.ack() }
            received += batch.count
        }
        try await client.flush(timeout: .seconds(30))
        elapsed = clock.now - start
        // The consume phase alone (cpu_user/cpu_sys also count the fill).
        let cpuAfter = cpuTimes()
        result["cpu_user_consume"] = ((cpuAfter.user - cpuBefore.user) * 1000).rounded() / 1000
        result["cpu_sys_consume"] = ((cpuAfter.sys - cpuBefore.sys) * 1000).rounded() / 1000
        result["received"] = received
    default: break
    }
    result["stored"] = Int(try await js.streamInfo(stream).state.messages)
    try await js.deleteStream(stream)
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
    var puts: [Double] = []
    var gets: [Double] = []
    puts.reserveCapacity(config.msgs)
    gets.reserveCapacity(config.msgs)
    let start = clock.now
    for index in 0..<config.msgs {
        let t0 = clock.now
        try await kv.put(keys[index % 100], payload)
        puts.append(microseconds(clock.now - t0))
    }
    for index in 0..<config.msgs {
        let t0 = clock.now
        _ = try await kv.get(keys[index % 100])
        gets.append(microseconds(clock.now - t0))
    }
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
        for _ in 0..<config.msgs { try await client.publishWaiting(payload, to: config.subject) }
        try await client.flush(timeout: .seconds(60))
        elapsed = clock.now - start
    case "pubsub":
        let subscriber = try await NATSClient.connect(options(config))
        let sub = try subscriber.subscribe(to: config.subject, maxPendingMessages: Int.max / 2, maxPendingBytes: Int.max / 2)
        try await subscriber.flush()
        let target = config.msgs
        let counter = Task { () -> Int in
            var got = 0
            do {
                for try await _ in sub {
                    got += 1
                    if got == target { break }
                }
            } catch {}
            return got
        }
        let start = clock.now
        for _ in 0..<config.msgs { try await client.publishWaiting(payload, to: config.subject) }
        try await client.flush(timeout: .seconds(60))
        let received = await withTaskGroup(of: Int?.self) { group -> Int in
            group.addTask { await counter.value }
            group.addTask { try? await Task.sleep(for: .seconds(30)); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            counter.cancel()
            return first ?? -1
        }
        elapsed = clock.now - start
        result["received"] = received >= 0 ? received : config.msgs - sub.pendingCount
        result["dropped"] = sub.droppedCount
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
            let t0 = clock.now
            _ = try await client.request(payload, to: config.subject, timeout: .seconds(5))
            let d = clock.now - t0
            latencies.append(Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12)
        }
        elapsed = clock.now - start
        latencies.sort()
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

let config = parse()
do {
    let result = try await run(config)
    let order = ["mode", "msgs", "size", "secs", "rate", "mbps", "received", "dropped", "stored", "storage", "window", "batch", "p50_us", "p99_us", "put_p50_us", "put_p99_us", "get_p50_us", "get_p99_us", "chunk", "put_secs", "put_mbps", "cpu_put", "get_secs", "get_mbps", "cpu_get", "cpu_user", "cpu_sys", "cpu_user_consume", "cpu_sys_consume", "cpu_s_per_1m", "maxrss_kb"]
    print("nats-bench (Tributary) on \(ProcessInfo.processInfo.activeProcessorCount) cores")
    for key in order {
        if let value = result[key] { print("  " + key + String(repeating: " ", count: max(1, 15 - key.count)) + "\(value)") }
    }
    // One JSON line, keys sorted (numbers and strings only).
    let members = result.keys.sorted().map { key -> String in
        let value = result[key]!
        let text = value is String ? "\"\(value)\"" : "\(value)"
        return "\"\(key)\":\(text)"
    }
    print("{" + members.joined(separator: ",") + "}")
} catch {
    writeError("nats-bench: \(error)\n")
    exit(2)
}
