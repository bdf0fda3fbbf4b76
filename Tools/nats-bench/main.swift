// nats-bench: throughput and latency of the Tributary NATS client against a real server.
//
//   nats-bench MODE [--msgs N] [--size BYTES] [-s URL] [--subject S]
//   MODE: pub | pubsub | req
//
// Prints a readable table, then one JSON line:
// {"mode":…,"msgs":…,"size":…,"secs":…,"rate":…,"p50_us":…,"p99_us":…,"cpu_user":…,"cpu_sys":…,"maxrss_kb":…}
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ToolSupport
import Synchronization
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
}

/// Writes to standard error (descriptor 2) without Foundation.
func writeError(_ text: String) {
    var bytes = Array(text.utf8)
    _ = write(2, &bytes, bytes.count)
}

func usage(_ message: String? = nil) -> Never {
    if let message { writeError("nats-bench: \(message)\n") }
    let text = """
    usage: nats-bench pub|pubsub|req [--msgs N] [--size BYTES] [-s URL] [--subject S]
      pub     publish N messages on one connection, then flush (publish-only throughput)
      pubsub  publisher and subscriber on two connections; counts what arrives
      req     N sequential requests against a responder on a second connection (latency)
      -s, --server URL   server (default NATS_URL, else nats://127.0.0.1:4222)
      --creds FILE       user credentials (.creds) file (default NATS_CREDS)
      --nkey FILE        user NKEY seed file (default NATS_NKEY)
      --msgs N           message count (default 1000000; req: 20000)
      --size BYTES       payload size (default 16)
      --tlsca FILE, --tlscert FILE, --tlskey FILE, --tlsfirst   TLS, as the other nats tools
    Ends with one JSON line: mode, msgs, size, secs, rate, p50_us/p99_us (req), cpu_user, cpu_sys, maxrss_kb.
    """
    writeError(text + "\n")
    exit(message == nil ? 0 : 1)
}

func parse() -> BenchConfig {
    var config = BenchConfig()
    var args = Array(CommandLine.arguments.dropFirst())
    var msgsGiven = false
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
            config.size = n
        case "-s", "--server": config.server = value()
        case "--creds": config.creds = value()
        case "--nkey": config.nkey = value()
        case "--subject": config.subject = value()
        case "--tlsca": config.tlsCA = value()
        case "--tlscert": config.tlsCert = value()
        case "--tlskey": config.tlsKey = value()
        case "--tlsfirst": config.tlsFirst = true
        default:
            if arg.hasPrefix("-") || !config.mode.isEmpty { usage("unexpected argument '\(arg)'") }
            config.mode = arg
        }
    }
    guard ["pub", "pubsub", "req"].contains(config.mode) else { usage("mode must be pub, pubsub or req") }
    if config.mode == "req" && !msgsGiven { config.msgs = 20_000 }
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

func run(_ config: BenchConfig) async throws -> [String: Any] {
    let payload = [UInt8](repeating: 0x61, count: config.size)
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
    let order = ["mode", "msgs", "size", "secs", "rate", "mbps", "received", "dropped", "p50_us", "p99_us", "cpu_user", "cpu_sys", "cpu_s_per_1m", "maxrss_kb"]
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
