// bridge-bench: throughput, end-to-end latency, CPU and memory of the NATS-Kafka bridge's core
// routes, against a real nats-server and Kafka broker.
//
//   bridge-bench nats-to-kafka [--msgs N] [--size BYTES] [--partitions P] [--keys K] [-s URL] [-b BROKERS]
//   bridge-bench kafka-to-nats [--msgs N] [--size BYTES] [--partitions P] [--keys K] [-s URL] [-b BROKERS]
//   bridge-bench jetstream-to-kafka | kafka-to-jetstream [same flags]
//
// Everything runs in this process: the source client (a NATS or JetStream publisher, or a Kafka producer),
// the bridge with one route, and the reader at the far end (a Kafka consumer or a NATS
// subscriber). Each message carries the monotonic time it was sent; the reader records now minus
// that as the end-to-end latency. The rate is messages read over the time from the first send
// to the last read. CPU is the whole process (sender, bridge and reader), per million messages.
// Prints a table, then one JSON line.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import ToolSupport
import TributaryBridge
import TributaryJetStream
import TributaryKafka
import TributaryNATS

struct Settings {
    var mode = ""
    var msgs = 200_000
    var size = 100
    var partitions: Int32 = 3
    var keys = 64
    var maxInFlight: Int?
    var prefill = false
    var service: String?
    var natsURL: String?
    var brokers: String?
}

func usage(_ message: String? = nil) -> Never {
    if let message { FileHandle.standardError.write(Data("bridge-bench: \(message)\n".utf8)) }
    let text = """
    usage: bridge-bench nats-to-kafka|kafka-to-nats|jetstream-to-kafka|kafka-to-jetstream [flags]
      nats-to-kafka  publish N messages on core NATS subjects (one of K keys in the subject); the
                     bridge produces them to a fresh Kafka topic (key: the subject token, acks=all,
                     idempotent); a consumer of that topic reads them
      kafka-to-nats  produce N keyed records to a fresh Kafka topic while the bridge reads it as a
                     consumer group and publishes each on a NATS subject (committing after a
                     flush); a subscriber reads them
      jetstream-to-kafka  publish N messages asynchronously into a fresh JetStream stream (memory
                     storage); the bridge reads them through a durable pull consumer (max ack
                     pending: the route's in-flight bound) and produces each to Kafka, acking it
                     after Kafka's ack; a consumer of that topic reads them
      kafka-to-jetstream  as kafka-to-nats, but the bridge publishes into a fresh JetStream stream
                     (memory storage) with Nats-Msg-Id and commits after JetStream's acks; a core
                     NATS subscriber on the stream's subjects reads them, and the run ends when
                     every message was also acknowledged by JetStream
      -s, --server URL     NATS server (default NATS_URL, else nats://127.0.0.1:4222)
      -b, --brokers LIST   Kafka bootstrap servers (default KAFKA_BROKERS, else localhost:9092)
      --msgs N             messages (default 200000)
      --size BYTES         payload size, at least 16 (default 100)
      --partitions P       partitions of the fresh topic (default 3)
      --keys K             distinct keys (default 64)
      --max-in-flight N    the route's bound on forwarded-but-unconfirmed messages (default: the route's)
      --prefill            write every message to the source (Kafka topic or JetStream stream) before
                           the route starts, and time the route draining it: from the first message
                           read at the far end to the last (not for nats-to-kafka: core NATS keeps nothing)
      --service            run the route in a tributary-bridge process (the one built beside this tool)
                           instead of in this one, and report that process's CPU and peak memory apart
      --service-binary P   the tributary-bridge executable to run (implies --service); with
                           BRIDGE_BENCH_KEEP_LOG set, its configuration and log stay in /tmp
    Environment: BRIDGE_BENCH_TRACE prints progress every 250 ms after the run (read, and for an
    in-process route received, forwarded, in flight); BRIDGE_BENCH_BUFFER_MIB sets an in-process
    Kafka-source route's fetch buffer (maxBufferedBytes) in MiB.
    Ends with one JSON line: mode, msgs, size, secs, rate, p50_us, p90_us, p99_us, max_us,
    cpu_user, cpu_sys, cpu_s_per_1m, maxrss_kb, dropped (core NATS messages the bridge's
    subscription dropped, nats-to-kafka), duplicates (messages read twice).
    """
    FileHandle.standardError.write(Data((text + "\n").utf8))
    exit(message == nil ? 0 : 1)
}

func parse() -> Settings {
    var settings = Settings()
    var arguments = Array(CommandLine.arguments.dropFirst())
    guard let mode = arguments.first, !mode.hasPrefix("-") else {
        if arguments.contains("-h") || arguments.contains("--help") { usage() }
        usage("name a mode: nats-to-kafka, kafka-to-nats, jetstream-to-kafka or kafka-to-jetstream")
    }
    guard ["nats-to-kafka", "kafka-to-nats", "jetstream-to-kafka", "kafka-to-jetstream"].contains(mode) else { usage("unknown mode '\(mode)'") }
    settings.mode = mode
    arguments.removeFirst()
    var index = 0
    func value(_ flag: String) -> String {
        index += 1
        guard index < arguments.count else { usage("\(flag) needs a value") }
        return arguments[index]
    }
    func number(_ flag: String, minimum: Int) -> Int {
        let text = value(flag)
        guard let number = Int(text), number >= minimum else { usage("\(flag) needs a whole number of at least \(minimum), not '\(text)'") }
        return number
    }
    while index < arguments.count {
        switch arguments[index] {
        case "-h", "--help": usage()
        case "--msgs": settings.msgs = number("--msgs", minimum: 1)
        case "--size": settings.size = number("--size", minimum: 16)
        case "--partitions": settings.partitions = Int32(clamping: number("--partitions", minimum: 1))
        case "--keys": settings.keys = number("--keys", minimum: 1)
        case "--max-in-flight": settings.maxInFlight = number("--max-in-flight", minimum: 1)
        case "--prefill": settings.prefill = true
        case "--service": settings.service = settings.service ?? siblingExecutable("tributary-bridge")
        case "--service-binary": settings.service = value("--service-binary")
        case "-s", "--server": settings.natsURL = value("--server")
        case "-b", "--brokers": settings.brokers = value("--brokers")
        default: usage("unknown flag '\(arguments[index])'")
        }
        index += 1
    }
    if settings.prefill && settings.mode == "nats-to-kafka" { usage("--prefill needs a source that stores messages: jetstream-to-kafka, kafka-to-nats or kafka-to-jetstream") }
    return settings
}

/// `name` in the directory this executable was started from.
func siblingExecutable(_ name: String) -> String {
    let path = CommandLine.arguments[0]
    guard let slash = path.lastIndex(of: "/") else { return name }
    return String(path[...slash]) + name
}

/// Nanoseconds on the monotonic clock, carried in the first 8 bytes of each payload.
func monotonicNanoseconds() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

func payload(size: Int, sequence: UInt64) -> [UInt8] {
    var bytes = [UInt8](repeating: UInt8(ascii: "."), count: size)
    let sent = monotonicNanoseconds()
    for index in 0..<8 { bytes[index] = UInt8(truncatingIfNeeded: sent >> (8 * index)) }
    let number = sequence
    for index in 0..<8 { bytes[8 + index] = UInt8(truncatingIfNeeded: number >> (8 * index)) }
    return bytes
}

/// What the reader saw: latencies in microseconds, sequences seen, when the last arrived.
final class Reader: Sendable {
    struct State {
        var latencies: [Double] = []
        var seen: [Bool]
        var distinct = 0
        var duplicates = 0
        var firstAt: UInt64 = 0
        var lastAt: UInt64 = 0
        var warmedUp = false
    }

    let state: Mutex<State>
    let total: Int

    init(total: Int) {
        self.total = total
        state = Mutex(State(seen: [Bool](repeating: false, count: total)))
        state.withLock { $0.latencies.reserveCapacity(total) }
    }

    func record(_ bytes: [UInt8]) {
        guard bytes.count >= 16 else { return }
        let now = monotonicNanoseconds()
        var sent: UInt64 = 0
        var sequence: UInt64 = 0
        for index in 0..<8 {
            sent |= UInt64(bytes[index]) << (8 * index)
            sequence |= UInt64(bytes[8 + index]) << (8 * index)
        }
        state.withLock { state in
            if sequence == Reader.warmUp { state.warmedUp = true }
            guard sequence < UInt64(state.seen.count) else { return }
            if state.seen[Int(sequence)] {
                state.duplicates += 1
                return
            }
            state.seen[Int(sequence)] = true
            state.distinct += 1
            state.latencies.append(Double(now &- sent) / 1000)
            if state.firstAt == 0 { state.firstAt = now }
            state.lastAt = now
        }
    }

    var distinct: Int { state.withLock { $0.distinct } }
    var warmedUp: Bool { state.withLock { $0.warmedUp } }

    /// The sequence of the message sent first and waited for, outside the measurement: it
    /// proves the whole path works (connections, metadata, producer id, group assignment).
    static let warmUp = UInt64.max
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("bridge-bench: \(message)\n".utf8))
    exit(1)
}

func waitUntil(_ deadline: ContinuousClock.Instant, _ condition: () -> Bool) async -> Bool {
    while !condition() {
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return true
}

/// The bridge being measured: in this process, or a tributary-bridge process.
enum BridgeUnderTest {
    case inProcess(NATSKafkaBridge)
    case service(ServiceProcess)

    var statistics: String {
        switch self {
        case .inProcess(let bridge): return "\(bridge.statistics[0])"
        case .service(let process): return process.isRunning ? "tributary-bridge (pid \(process.pid)) running" : "tributary-bridge exited: \(process.log.suffix(2000))"
        }
    }

    /// Messages the route's core NATS subscription dropped (known in process only).
    var dropped: Int {
        if case .inProcess(let bridge) = self { return bridge.statistics[0].dropped }
        return 0
    }

    /// Starts the route and returns once it reads.
    func start() async -> Task<Void, any Error>? {
        switch self {
        case .inProcess(let bridge): return await routeStarted(bridge)
        case .service(let process):
            let started = await waitUntil(.now + .seconds(60)) { process.log.contains("route 'bench' started") || !process.isRunning }
            if !started || !process.isRunning { fail("tributary-bridge did not start its route within 60 s: \(process.log.suffix(2000))") }
            return nil
        }
    }

    /// Drains the route (SIGTERM for the service) and waits for it to end.
    func stop(_ running: Task<Void, any Error>?) async {
        switch self {
        case .inProcess(let bridge):
            await bridge.drain()
            _ = try? await running?.value
        case .service(let process):
            await process.stop()
            if ProcessInfo.processInfo.environment["BRIDGE_BENCH_KEEP_LOG"] != nil {
                FileHandle.standardError.write(Data("bridge-bench: kept \(process.configPath) and \(process.logPath)\n".utf8))
            } else {
                unlink(process.configPath)
                unlink(process.logPath)
            }
        }
    }
}

func routeStarted(_ bridge: NATSKafkaBridge) async -> Task<Void, any Error> {
    let started = Mutex(false)
    let events = bridge.events
    let watcher = Task {
        for await event in events {
            if case .routeStarted = event { started.withLock { $0 = true } }
        }
    }
    let running = Task { try await bridge.run() }
    if !(await waitUntil(.now + .seconds(60), { started.withLock { $0 } })) { fail("the route did not start within 60 s") }
    _ = watcher
    return running
}

let settings = parse()
let environment = ProcessInfo.processInfo.environment
let natsURL = settings.natsURL ?? environment["NATS_URL"] ?? "nats://127.0.0.1:4222"
let brokers = settings.brokers ?? environment["KAFKA_BROKERS"] ?? "localhost:9092"
let run = UInt32.random(in: 0...UInt32.max)
let topic = "bridge-bench-\(settings.mode)-\(run)"
let reader = Reader(total: settings.msgs)

do {
    var kafkaConfiguration = try KafkaClientConfiguration(bootstrapServers: brokers)
    // A group route in this process: count its JoinGroup requests (a rebalance stalls the route).
    let countJoins = settings.mode.hasPrefix("kafka-to") && settings.service == nil
    kafkaConfiguration.traceRequests = countJoins
    let kafka = try await KafkaClient.connect(kafkaConfiguration)
    let joins = Mutex((counting: false, count: 0))
    if countJoins {
        let traces = kafka.requestTraces
        Task {
            for await trace in traces where trace.api == .joinGroup {
                joins.withLock { if $0.counting { $0.count += 1 } }
            }
        }
    }
    let bridgeNATS = try await NATSClient.connect(NATSOptions(url: natsURL))
    let endNATS = try await NATSClient.connect(NATSOptions(url: natsURL))
    try await kafka.createTopic(KafkaNewTopic(name: topic, partitions: settings.partitions))
    _ = try await kafka.describeTopic(topic)
    let prefix = "bench\(run)"
    let toKafka = settings.mode.hasSuffix("to-kafka")
    let viaJetStream = settings.mode.contains("jetstream")
    let publisher = try await NATSClient.connect(NATSOptions(url: natsURL))
    let jetStream = try JetStreamContext(client: publisher)
    let stream = "BRIDGE_BENCH_\(run)"
    if viaJetStream {
        try await jetStream.createStream(StreamConfig(name: stream, subjects: ["\(prefix).>"], storage: .memory))
    }
    var route: BridgeRoute
    if settings.mode == "nats-to-kafka" {
        route = BridgeRoute(name: "bench", from: .natsSubject("\(prefix).>"), to: .kafkaTopic(topic), key: .subjectToken(2))
    } else if settings.mode == "jetstream-to-kafka" {
        route = BridgeRoute(name: "bench", from: .jetStream(stream: stream, consumer: "bridge"), to: .kafkaTopic(topic), key: .subjectToken(2))
    } else {
        let destination: BridgeRoute.Destination = viaJetStream ? .jetStreamSubject("\(prefix).{partition}") : .natsSubject("\(prefix).{partition}")
        var kafkaRoute = BridgeRoute(name: "bench", from: .kafkaTopics([topic], group: "bridge-bench-\(run)"), to: destination)
        kafkaRoute.concurrency = Int(settings.partitions)
        kafkaRoute.configureGroup = { group in
            group.autoOffsetReset = .earliest
            group.sessionTimeout = .seconds(6)
            group.heartbeatInterval = .milliseconds(500)
            group.fetch.fetchMaxWait = .milliseconds(10)
            if let mib = ProcessInfo.processInfo.environment["BRIDGE_BENCH_BUFFER_MIB"].flatMap({ Int($0) }) { group.fetch.maxBufferedBytes = mib << 20 }
        }
        route = kafkaRoute
    }
    if let maxInFlight = settings.maxInFlight { route.maxInFlight = maxInFlight }
    if settings.mode == "jetstream-to-kafka" {
        var consumer = ConsumerConfig(durableName: "bridge", ackPolicy: .explicit)
        consumer.maxAckPending = route.maxInFlight
        _ = try await jetStream.createConsumer(stream: stream, config: consumer)
    }
    let bridge: BridgeUnderTest
    if let binary = settings.service {
        let configPath = "/tmp/bridge-bench-\(run).json", logPath = "/tmp/bridge-bench-\(run).log"
        let text = serviceConfiguration(mode: settings.mode, natsURL: natsURL, brokers: brokers, prefix: prefix, topic: topic, stream: stream,
                                        group: "bridge-bench-\(run)", partitions: settings.partitions, maxInFlight: settings.maxInFlight)
        guard FileManager.default.createFile(atPath: configPath, contents: Data(text.utf8)) else { fail("cannot write \(configPath)") }
        bridge = .service(try ServiceProcess(binary: binary, configPath: configPath, logPath: logPath))
    } else {
        bridge = .inProcess(try NATSKafkaBridge(id: "bridge-bench", nats: bridgeNATS, kafka: kafka, routes: [route]))
    }

    // The reader at the far end starts first.
    var readTask: Task<Void, Never>?
    if toKafka {
        var consumerSettings = KafkaConsumerConfiguration()
        consumerSettings.fetchMaxWait = .milliseconds(10)
        let consumer = try kafka.makeConsumer(consumerSettings)
        for partition in 0..<settings.partitions { try await consumer.assign(topic: topic, partition: partition, from: .earliest) }
        readTask = Task {
            while reader.distinct < settings.msgs && !Task.isCancelled {
                guard let records = try? await consumer.poll(maxRecords: 10_000, timeout: .milliseconds(100)) else { continue }
                for record in records { reader.record(record.value ?? []) }
            }
            consumer.close()
        }
    } else {
        // A handler subscription: messages reach it in runs on the subscription's queue, with no
        // task switch per message, so the reader costs little beside the bridge.
        _ = try endNATS.subscribe(to: "\(prefix).>", maxPendingMessages: 1_000_000, maxPendingBytes: 512 * 1024 * 1024) { message in
            reader.record(Array(message.payload))
        }
        try await endNATS.flush()
    }
    let producer = try kafka.makeProducer()
    let subjects = (0..<settings.keys).map { "\(prefix).k\($0)" }
    let keys = (0..<settings.keys).map { Array("k\($0)".utf8) }
    // The sender runs off the main actor, as a service's would, so that no call hops executors.
    let mode = settings.mode, size = settings.size, msgs = settings.msgs, keyCount = settings.keys
    let send = {
        try await Task.detached {
            switch mode {
            case "nats-to-kafka":
                for sequence in 0..<msgs {
                    try await publisher.publishWaiting(payload(size: size, sequence: UInt64(sequence)), to: subjects[sequence % keyCount])
                }
                try await publisher.flush()
            case "jetstream-to-kafka":
                for sequence in 0..<msgs {
                    _ = try await jetStream.publishAsync(payload(size: size, sequence: UInt64(sequence)), to: subjects[sequence % keyCount])
                }
                try await jetStream.waitForPendingPublishes()
            default:
                for sequence in 0..<msgs {
                    try await producer.produce(topic: topic, key: keys[sequence % keyCount], value: payload(size: size, sequence: UInt64(sequence)))
                }
                try await producer.flush()
            }
        }.value
    }
    let running: Task<Void, any Error>?
    let cpuBefore: (user: Double, sys: Double)
    var serviceCPUBefore = 0.0
    var started: UInt64 = 0
    if settings.prefill {
        // The source holds every message before the route starts; the measurement runs from the
        // first message read at the far end to the last (the group join or pull start excluded).
        try await send()
        cpuBefore = ProcessResources.cpuTimes()
        running = await bridge.start()
    } else {
        running = await bridge.start()
        // One message through the whole path first, outside the measurement.
        let warmUpDeadline = ContinuousClock.now + .seconds(60)
        while !reader.warmedUp {
            if settings.mode == "nats-to-kafka" {
                try await publisher.publishWaiting(payload(size: settings.size, sequence: Reader.warmUp), to: subjects[0])
            } else if settings.mode == "jetstream-to-kafka" {
                _ = try await jetStream.publishAsync(payload(size: settings.size, sequence: Reader.warmUp), to: subjects[0]).value()
            } else {
                try await producer.send(topic: topic, key: keys[0], value: payload(size: settings.size, sequence: Reader.warmUp))
            }
            if await waitUntil(.now + .seconds(5), { reader.warmedUp }) { break }
            if ContinuousClock.now >= warmUpDeadline { fail("the first message did not cross the bridge within 60 s (bridge: \(bridge.statistics))") }
        }
        cpuBefore = ProcessResources.cpuTimes()
        joins.withLock { $0.counting = true }
        if case .service(let process) = bridge { serviceCPUBefore = process.cpuSeconds() }
        started = monotonicNanoseconds()
        try await send()
    }
    // Core NATS is at most once: stop waiting when the bridge dropped what is missing (in this
    // process it counts them; a service's drops show as no progress for 10 s).
    let deadline = ContinuousClock.now + .seconds(300)
    // Progress every 250 ms (read at the far end; received and forwarded by an in-process
    // route), printed when BRIDGE_BENCH_TRACE is set: where a slow run's messages waited.
    let trace = Mutex<[String]>([])
    let tracer = ProcessInfo.processInfo.environment["BRIDGE_BENCH_TRACE"] == nil ? nil : Task {
        let origin = ContinuousClock.now
        while !Task.isCancelled {
            var line = "\((ContinuousClock.now - origin).components.seconds).\((ContinuousClock.now - origin).components.attoseconds / 10_000_000_000_000_000) s: read \(reader.distinct)"
            if case .inProcess(let route) = bridge, let statistics = route.statistics.first {
                line += ", received \(statistics.received), forwarded \(statistics.forwarded), in flight \(statistics.inFlight)"
            }
            trace.withLock { $0.append(line) }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }
    var progress = (count: 0, at: ContinuousClock.now)
    var complete = await waitUntil(deadline) {
        let distinct = reader.distinct
        if distinct != progress.count { progress = (distinct, .now) }
        if case .service = bridge, settings.mode == "nats-to-kafka", ContinuousClock.now - progress.at > .seconds(10) { return true }
        return distinct + bridge.dropped >= settings.msgs
    }
    var finished = reader.state.withLock { $0.lastAt }
    if complete && settings.mode == "kafka-to-jetstream" {
        // Into JetStream the run ends when the stream holds every message (warm-up included).
        let stored = UInt64(settings.msgs + (settings.prefill ? 0 : 1))
        complete = false
        while ContinuousClock.now < deadline {
            if let info = try? await jetStream.streamInfo(stream), info.state.messages >= stored { complete = true; break }
            try? await Task.sleep(for: .milliseconds(5))
        }
        finished = max(finished, monotonicNanoseconds())
    }
    if settings.prefill { started = reader.state.withLock { $0.firstAt } }
    let rejoins = joins.withLock { $0.count }
    let cpuAfter = ProcessResources.cpuTimes()
    var service: (cpu: Double, rssKB: Int)?
    if case .service(let process) = bridge {
        if settings.prefill { serviceCPUBefore = 0 }
        service = (process.cpuSeconds() - serviceCPUBefore, process.peakRSSKB())
    }
    readTask?.cancel()
    try await producer.close()
    tracer?.cancel()
    for line in trace.withLock({ $0 }) { FileHandle.standardError.write(Data("trace \(line)\n".utf8)) }
    let statisticsText = bridge.statistics
    let dropped = bridge.dropped
    if case .service(let process) = bridge, reader.state.withLock({ $0.duplicates }) > 0 {
        // Duplicates mean the route forwarded something again: its log says why.
        FileHandle.standardError.write(Data("bridge-bench: tributary-bridge's log:\n\(process.log.suffix(4000))\n".utf8))
    }
    await bridge.stop(running)
    if viaJetStream { try? await jetStream.deleteStream(stream) }
    await publisher.close()
    let (latencies, duplicates, distinct) = reader.state.withLock { ($0.latencies.sorted(), $0.duplicates, $0.distinct) }
    if !complete { fail("only \(distinct) of \(settings.msgs) messages arrived within 300 s (bridge: \(statisticsText))") }
    let seconds = Double(finished &- started) / 1e9
    let cpuUser = cpuAfter.user - cpuBefore.user
    let cpuSys = cpuAfter.sys - cpuBefore.sys
    let rate = seconds > 0 ? Double(distinct) / seconds : 0
    let p50 = BenchReport.percentile(latencies, 50), p90 = BenchReport.percentile(latencies, 90)
    let p99 = BenchReport.percentile(latencies, 99), maximum = latencies.last ?? 0
    let rss = ProcessResources.peakRSSKB()
    let perMillion = distinct > 0 ? (cpuUser + cpuSys) * 1_000_000 / Double(distinct) : 0
    print("bridge-bench \(settings.mode): \(distinct) of \(settings.msgs) × \(settings.size) B in \(String(format: "%.3f", seconds)) s")
    print(String(format: "  rate        %.0f msg/s", rate))
    if settings.prefill {
        print(String(format: "  age at read p50 %.0f µs · p99 %.0f µs (prefilled: time since each message was written to the source)", p50, p99))
    } else {
        print(String(format: "  latency     p50 %.0f µs · p90 %.0f µs · p99 %.0f µs · max %.0f µs", p50, p90, p99, maximum))
    }
    print(String(format: "  CPU         %.2f s user + %.2f s sys = %.3f CPU-s per 1M (whole process)", cpuUser, cpuSys, perMillion))
    print("  peak RSS    \(rss / 1024) MB")
    var serviceJSON = ""
    if let service {
        let servicePerMillion = distinct > 0 ? service.cpu * 1_000_000 / Double(distinct) : 0
        print(String(format: "  service     tributary-bridge: %.2f CPU-s = %.3f CPU-s per 1M%@, peak RSS %d MB", service.cpu, servicePerMillion,
                     settings.prefill ? " (from its start: the join or pull start included)" : "", service.rssKB / 1024))
        serviceJSON = String(format: #","bridge_cpu_s":%.3f,"bridge_cpu_s_per_1m":%.3f,"bridge_maxrss_kb":%d"#, service.cpu, servicePerMillion, service.rssKB)
        if distinct < settings.msgs { print("  missing     \(settings.msgs - distinct) (core NATS: dropped by the service's subscription or in flight)") }
    } else {
        print("  bridge      \(statisticsText)")
    }
    if duplicates > 0 || dropped > 0 { print("  duplicates \(duplicates), dropped by the bridge's subscription \(dropped)") }
    if rejoins > 0 { print("  rebalances  the bridge's group member sent \(rejoins) JoinGroup requests during the measurement") }
    print(String(format: #"{"mode":"%@","prefill":\#(settings.prefill),"service":\#(settings.service != nil),"msgs":%d,"size":%d,"partitions":%d,"keys":%d,"secs":%.4f,"rate":%.0f,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"max_us":%.0f,"cpu_user":%.3f,"cpu_sys":%.3f,"cpu_s_per_1m":%.3f,"maxrss_kb":%d,"dropped":%d,"duplicates":%d%@}"#,
                 settings.mode, settings.msgs, settings.size, Int(settings.partitions), settings.keys, seconds, rate, p50, p90, p99, maximum,
                 cpuUser, cpuSys, perMillion, rss, dropped, duplicates, serviceJSON))
    await bridgeNATS.close()
    await endNATS.close()
    kafka.close()
} catch {
    fail("\(error)")
}
