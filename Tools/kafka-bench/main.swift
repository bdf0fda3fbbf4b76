// kafka-bench: produce, consume and consumer-group figures of the Tributary Kafka client against
// a real broker.
//
//   kafka-bench produce [--msgs N] [--size BYTES] [--acks 0|1|all] [--partitions P] [--codec C]
//                       [--linger MS] [--batch-size BYTES] [--keys] [-b BROKERS]
//   kafka-bench consume [--msgs N] [--size BYTES] [--partitions P] [-b BROKERS]
//   kafka-bench group   [--msgs N] [--size BYTES] [--partitions P] [--session-timeout MS]
//                       [--heartbeat MS] [-b BROKERS]
//   kafka-bench codec   [--text FILE] [--seconds S] [--codec C]   (compression only, no broker)
//
// Each run creates a fresh topic. Prints a readable table, then one JSON line:
// {"mode":…,"msgs":…,"size":…,"secs":…,"rate":…,"cpu_user":…,"cpu_sys":…,"maxrss_kb":…, …}
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials
import ToolSupport
import Synchronization
import TributaryCompression
import TributaryKafka

struct BenchConfig {
    var tlsCA: String?
    var tlsCert: String?
    var tlsKey: String?
    var mode = ""
    var msgs = 1_000_000
    var size = 100
    var acks = KafkaAcks.leader
    var partitions: Int32?
    var codec = KafkaCompressionCodec.none
    var lingerMs = 5
    var batchSize = KafkaProducerConfiguration.defaultBatchSize
    var keys = false
    var checkCRCs = true
    var brokers: String?
    var topicPrefix = "kafka-bench"
    /// `--topic`: an existing (or kept) topic instead of a fresh one.
    var topic: String?
    /// `--max-buffered`: the consumer's `maxBufferedBytes`, when given.
    var maxBufferedBytes: Int?
    /// `--poll-records`: most records one `poll` returns.
    var pollRecords = 500
    /// `--fetch-max-bytes`: the consumer's `fetchMaxBytes`, when given.
    var fetchMaxBytes: Int?
    var sessionTimeoutMs = 6000
    var heartbeatMs = 1000

    /// Partitions of the fresh topic: `--partitions`, else 1 (6 for `group`).
    var topicPartitions: Int32 { partitions ?? (mode == "group" ? 6 : 1) }
}

func usage(_ message: String? = nil) -> Never {
    if let message { StandardStreams.writeError(text: "kafka-bench: \(message)\n") }
    let text = """
    usage: kafka-bench produce|consume|group [flags]
           kafka-bench codec [--text FILE] [--seconds S] [--codec C]   (no broker; see kafka-bench codec --help)
      produce  produce N records to a fresh topic (fire-and-forget produce, then flush)
      consume  fill a fresh topic with N records, then read every partition from offset 0;
               rate and CPU cover the reading only (with --topic: read that topic, no fill, so
               the peak RSS is the reading's alone)
      group    fill a fresh topic (6 partitions unless --partitions) with N keyed records, then,
               each in a fresh group: (a) a new member's time to its first record, (b) the
               rebalance when a second member joins, until both hold disjoint assignments
               covering every partition, (c) three members consuming the whole topic; rate and
               CPU cover (c), from creating the members until every record was processed
      -b, --brokers LIST   bootstrap host:port[,host:port] (default KAFKA_BROKERS, else localhost:9092)
      --msgs N             record count (default 1000000)
      --size BYTES         value size (default 100)
      --partitions P       partitions of the fresh topic (default 1; 6 for group)
      --session-timeout MS group: session.timeout.ms (default 6000, the Kafka minimum; tansu holds
                           a new group's first join about half of it)
      --heartbeat MS       group: heartbeat.interval.ms (default 1000)
      --acks 0|1|all       produce acks (default 1; the consume fill uses 1)
      --codec C            none|gzip|snappy|lz4|zstd (default none)
      --linger MS          linger.ms (default 5)
      --batch-size BYTES   batch.size (default \(KafkaProducerConfiguration.defaultBatchSize))
      --keys               keyed records (8-byte key, the record number) instead of keyless
      --no-check-crcs      consume without checking batch CRCs (check.crcs=false, librdkafka's default)
      --topic-prefix S     name prefix of the fresh topic (default kafka-bench)
      --topic NAME         produce: write to NAME (created with --partitions if missing) and keep
                           it; consume: read N records of NAME from offset 0 of each of its
                           partitions, without filling it first
      --poll-records N     consume: most records per poll (default 500, the poll default and
                           the Java client's max.poll.records)
      --fetch-max-bytes B  consume: fetchMaxBytes (default \(KafkaConsumerConfiguration.defaultFetchMaxBytes))
      --max-buffered BYTES consume: maxBufferedBytes (default \(KafkaConsumerConfiguration.defaultMaxBufferedBytes))
      --tlsca FILE         connect over TLS (security.protocol=SSL), trusting the CA in FILE
      --tlscert FILE, --tlskey FILE   client certificate and key for mTLS (with --tlsca)
    Ends with one JSON line: mode, msgs, size, secs, rate, mbps, cpu_user, cpu_sys, cpu_s_per_1m,
    maxrss_kb, and the settings used; group adds first_record_ms, rebalance_ms, assignor,
    session_timeout_ms, group_first_record_ms (of the three members) and duplicates.
    """
    StandardStreams.writeError(text: text + "\n")
    exit(message == nil ? 0 : 1)
}

func parse() -> BenchConfig {
    var config = BenchConfig()
    var args = Array(CommandLine.arguments.dropFirst())
    while !args.isEmpty {
        var arg = args.removeFirst()
        var inline: String?
        if arg.hasPrefix("--"), let equals = arg.firstIndex(of: "=") {
            inline = String(arg[arg.index(after: equals)...])
            arg = String(arg[..<equals])
        }
        func value() -> String {
            if let inline { return inline }
            guard !args.isEmpty else { usage("\(arg) needs a value") }
            return args.removeFirst()
        }
        func positive(_ text: String, allowZero: Bool = false) -> Int {
            guard let n = Int(text), n > 0 || (allowZero && n == 0) else {
                usage("\(arg) needs a \(allowZero ? "non-negative" : "positive") integer, got '\(text)'")
            }
            return n
        }
        switch arg {
        case "-h", "--help": usage()
        case "--msgs", "-n": config.msgs = positive(value())
        case "--size": config.size = positive(value(), allowZero: true)
        case "--partitions", "-p":
            let n = positive(value())
            guard n <= Int(Int32.max) else { usage("--partitions is too large") }
            config.partitions = Int32(n)
        case "--session-timeout": config.sessionTimeoutMs = positive(value())
        case "--heartbeat": config.heartbeatMs = positive(value())
        case "--acks":
            switch value() {
            case "0": config.acks = .none
            case "1": config.acks = .leader
            case "all", "-1": config.acks = .all
            case let other: usage("--acks must be 0, 1 or all, got '\(other)'")
            }
        case "--codec", "--compression":
            let name = value()
            guard let codec = KafkaCompressionCodec.allCases.first(where: { $0.description == name }) else {
                usage("--codec must be none, gzip, snappy, lz4 or zstd, got '\(name)'")
            }
            config.codec = codec
        case "--linger": config.lingerMs = positive(value(), allowZero: true)
        case "--batch-size": config.batchSize = positive(value())
        case "--keys": config.keys = true
        case "--no-check-crcs": config.checkCRCs = false
        case "-b", "--brokers": config.brokers = value()
        case "--topic-prefix": config.topicPrefix = value()
        case "--topic": config.topic = value()
        case "--max-buffered": config.maxBufferedBytes = positive(value())
        case "--poll-records": config.pollRecords = positive(value())
        case "--fetch-max-bytes": config.fetchMaxBytes = positive(value())
        case "--tlsca": config.tlsCA = value()
        case "--tlscert": config.tlsCert = value()
        case "--tlskey": config.tlsKey = value()
        default:
            if arg.hasPrefix("-") || !config.mode.isEmpty { usage("unexpected argument '\(arg)'") }
            config.mode = arg
        }
    }
    guard ["produce", "consume", "group"].contains(config.mode) else { usage("mode must be produce, consume or group") }
    if config.topic != nil && config.mode == "group" { usage("--topic is for produce and consume") }
    if config.heartbeatMs >= config.sessionTimeoutMs { usage("--heartbeat must be below --session-timeout") }
    if (config.tlsCert != nil || config.tlsKey != nil) && config.tlsCA == nil { usage("--tlscert and --tlskey need --tlsca") }
    if (config.tlsCert == nil) != (config.tlsKey == nil) { usage("--tlscert and --tlskey go together") }
    return config
}

func peakRSSKB() -> Int { ProcessResources.peakRSSKB() }

func cpuTimes() -> (user: Double, sys: Double) { ProcessResources.cpuTimes() }

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func rounded(_ value: Double, _ digits: Double) -> Double {
    (value * digits).rounded() / digits
}

/// Produces `count` records of `size` bytes with the fire-and-forget path and flushes.
func produceAll(_ producer: KafkaProducer, topic: String, count: Int, size: Int, keyed: Bool) async throws(KafkaError) {
    let value = [UInt8](repeating: 0x61, count: size)
    if keyed {
        for index in 0..<count {
            var key = [UInt8](repeating: 0, count: 8)
            var n = UInt64(index)
            for byte in 0..<8 { key[byte] = UInt8(truncatingIfNeeded: n); n >>= 8 }
            try await producer.produce(topic: topic, key: key, value: value)
        }
    } else {
        for _ in 0..<count { try await producer.produce(topic: topic, key: nil, value: value) }
    }
    try await producer.flush()
}

func producerConfiguration(_ config: BenchConfig, acks: KafkaAcks) -> KafkaProducerConfiguration {
    var settings = KafkaProducerConfiguration()
    settings.acks = acks
    settings.linger = .milliseconds(config.lingerMs)
    settings.batchSize = config.batchSize
    settings.compression = config.codec
    return settings
}

/// Settings of every member in `group` mode: the bench's session timeout and heartbeat interval;
/// new groups start at the beginning.
func groupConfiguration(_ config: BenchConfig, group: String, topic: String) -> KafkaGroupConsumerConfiguration {
    var settings = KafkaGroupConsumerConfiguration(groupID: group, topics: [topic])
    settings.sessionTimeout = .milliseconds(config.sessionTimeoutMs)
    settings.heartbeatInterval = .milliseconds(config.heartbeatMs)
    if settings.rebalanceTimeout < settings.sessionTimeout { settings.rebalanceTimeout = settings.sessionTimeout }
    settings.autoOffsetReset = .earliest
    return settings
}

/// Keeps a member polling (and dropping records), as a live member would, until cancelled.
func drain(_ member: KafkaGroupConsumer) -> Task<Void, Never> {
    Task {
        while !Task.isCancelled {
            do {
                _ = try await member.poll(maxRecords: 10_000, timeout: .milliseconds(100))
            } catch {
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}

/// What the members of `group` mode's phase (c) processed so far.
struct GroupProgress {
    /// Per partition, the offset after the last processed record.
    var done: [Int32: Int64] = [:]
    /// Records processed, summed over members (a record read again after a rebalance counts twice).
    var processed = 0
    var firstRecordAt: ContinuousClock.Instant?
    var completedAt: ContinuousClock.Instant?
    var lastProgressAt = ContinuousClock.now
}

/// `GroupProgress` shared by the member tasks.
final class SharedProgress: Sendable {
    private let state = Mutex(GroupProgress())

    func withLock<T>(_ body: (inout GroupProgress) -> T) -> T {
        state.withLock { body(&$0) }
    }
}

/// `group` mode on a filled topic: (a) first record of a new member, (b) rebalance time when a
/// second member joins, (c) three members consuming the topic. Returns the duration and CPU of (c).
func runGroup(_ config: BenchConfig, topic: String, client: KafkaClient, clientSettings: KafkaClientConfiguration,
              result: inout [String: Any]) async throws -> (elapsed: Duration, cpu: (user: Double, sys: Double)) {
    let clock = ContinuousClock()
    let partitions = Array(0..<config.topicPartitions)
    let settings = groupConfiguration(config, group: "", topic: topic)
    result["session_timeout_ms"] = config.sessionTimeoutMs
    result["heartbeat_ms"] = Int(seconds(settings.heartbeatInterval) * 1000)
    print("kafka-bench group: session timeout \(config.sessionTimeoutMs) ms, heartbeat \(Int(seconds(settings.heartbeatInterval) * 1000)) ms, "
          + "\(partitions.count) partitions, \(config.msgs) records of \(config.size) bytes")

    // (a) A new member of a fresh group, from its creation to its first record.
    let firstGroup = "\(topic)-join"
    let clientA = try await KafkaClient.connect(clientSettings)
    defer { clientA.close() }
    let startA = clock.now
    let memberA = try clientA.makeGroupConsumer(groupConfiguration(config, group: firstGroup, topic: topic))
    while try await memberA.poll(maxRecords: 1, timeout: .seconds(1)).isEmpty {
        if clock.now - startA > .seconds(120) { throw KafkaError(.timedOut, "the first member got no record in 120 s", topic: topic) }
    }
    let firstRecord = clock.now - startA
    result["first_record_ms"] = Int(seconds(firstRecord) * 1000)
    let drainA = drain(memberA)

    // (b) A second member joins: until both hold disjoint assignments covering every partition,
    // in the same generation.
    let clientB = try await KafkaClient.connect(clientSettings)
    defer { clientB.close() }
    let startB = clock.now
    let memberB = try clientB.makeGroupConsumer(groupConfiguration(config, group: firstGroup, topic: topic))
    let drainB = drain(memberB)
    let all = Set(partitions)
    while true {
        let a = Set(memberA.assignment.flatMap(\.partitions))
        let b = Set(memberB.assignment.flatMap(\.partitions))
        if !a.isEmpty, !b.isEmpty, a.isDisjoint(with: b), a.union(b) == all, memberA.generationID == memberB.generationID { break }
        if clock.now - startB > .seconds(120) { throw KafkaError(.timedOut, "two members did not share the partitions in 120 s", topic: topic) }
        try await Task.sleep(for: .milliseconds(2))
    }
    let rebalance = clock.now - startB
    result["rebalance_ms"] = Int(seconds(rebalance) * 1000)
    result["assignor"] = memberA.protocolName ?? "?"
    drainA.cancel()
    drainB.cancel()
    await memberA.close()
    await memberB.close()

    // (c) Three members of another fresh group consume the whole topic.
    var ends: [Int32: Int64] = [:]
    for partition in partitions { ends[partition] = try await client.offset(topic: topic, partition: partition, .latest) }
    let memberCount = 3
    var clients: [KafkaClient] = []
    for _ in 0..<memberCount { clients.append(try await KafkaClient.connect(clientSettings)) }
    defer { for memberClient in clients { memberClient.close() } }
    let progress = SharedProgress()
    let targets = ends
    let cpuStart = cpuTimes()
    let start = clock.now
    var members: [KafkaGroupConsumer] = []
    for memberClient in clients {
        members.append(try memberClient.makeGroupConsumer(groupConfiguration(config, group: "\(topic)-three", topic: topic)))
    }
    let workers = members.map { member in
        Task {
            while !Task.isCancelled, progress.withLock({ $0.completedAt == nil }) {
                let records = try await member.poll(maxRecords: 10_000, timeout: .milliseconds(100))
                guard !records.isEmpty else { continue }
                var last: [Int32: KafkaConsumerRecord] = [:]
                for record in records { last[record.partition] = record }
                for record in last.values { member.markProcessed(record) }
                progress.withLock { progress in
                    let now = ContinuousClock.now
                    if progress.firstRecordAt == nil { progress.firstRecordAt = now }
                    progress.processed += records.count
                    progress.lastProgressAt = now
                    for record in last.values { progress.done[record.partition] = max(progress.done[record.partition] ?? 0, record.offset + 1) }
                    if progress.completedAt == nil, targets.allSatisfy({ progress.done[$0.key] ?? 0 >= $0.value }) {
                        progress.completedAt = now
                    }
                }
            }
        }
    }
    while true {
        let (completed, lastProgress) = progress.withLock { ($0.completedAt, $0.lastProgressAt) }
        if completed != nil { break }
        if clock.now - max(lastProgress, start) > .seconds(60) {
            for worker in workers { worker.cancel() }
            throw KafkaError(.timedOut, "three members processed nothing for 60 s", topic: topic)
        }
        try await Task.sleep(for: .milliseconds(5))
    }
    let cpuEnd = cpuTimes()
    for worker in workers { try await worker.value }
    for member in members { await member.close() }
    let finished = progress.withLock { $0 }
    let elapsed = (finished.completedAt ?? clock.now) - start
    result["members"] = memberCount
    result["processed"] = finished.processed
    result["duplicates"] = finished.processed - config.msgs
    if let firstAt = finished.firstRecordAt {
        result["group_first_record_ms"] = Int(seconds(firstAt - start) * 1000)
        if let completed = finished.completedAt, completed > firstAt {
            result["rate_after_first_record"] = Int((Double(config.msgs) / seconds(completed - firstAt)).rounded())
        }
    }
    return (elapsed, (cpuEnd.user - cpuStart.user, cpuEnd.sys - cpuStart.sys))
}

func run(_ config: BenchConfig) async throws -> [String: Any] {
    var clientSettings = KafkaClientConfiguration()
    if let brokers = config.brokers { clientSettings = try KafkaClientConfiguration(bootstrapServers: brokers) }
    clientSettings.clientID = "kafka-bench"
    if let ca = config.tlsCA {
        clientSettings.securityProtocol = .ssl
        clientSettings.tls = TLSConfiguration(trustRoots: .caFile(ca), certificateFile: config.tlsCert, privateKeyFile: config.tlsKey)
    }
    let client = try await KafkaClient.connect(clientSettings)
    defer { client.close() }

    let topic = config.topic ?? "\(config.topicPrefix)-\(config.mode)-\(getpid())-\(Int(Date().timeIntervalSince1970 * 1000))"
    var partitions = config.topicPartitions
    if config.topic != nil && config.mode == "consume" {
        // Read the topic as it is: its partitions come from the broker.
        partitions = Int32(try await client.describeTopic(topic).partitionCount)
    } else {
        try await client.createTopic(KafkaNewTopic(name: topic, partitions: partitions), ifNotExists: config.topic != nil)
    }

    var result: [String: Any] = [
        "mode": config.mode, "msgs": config.msgs, "size": config.size, "client": "tributary",
        "partitions": Int(partitions), "codec": config.codec.description, "linger_ms": config.lingerMs,
        "batch_size": config.batchSize, "keys": config.keys, "topic": topic,
    ]
    let clock = ContinuousClock()
    let elapsed: Duration
    var cpu: (user: Double, sys: Double)
    switch config.mode {
    case "produce":
        result["acks"] = config.acks.description
        let producer = try client.makeProducer(producerConfiguration(config, acks: config.acks))
        let start = clock.now
        try await produceAll(producer, topic: topic, count: config.msgs, size: config.size, keyed: config.keys)
        elapsed = clock.now - start
        let statistics = producer.statistics
        try await producer.close()
        cpu = cpuTimes()
        result["delivered"] = statistics.deliveredRecords
        result["failed"] = statistics.failedRecords
        result["requests"] = statistics.requests
        result["retried_batches"] = statistics.retriedBatches
        result["possibly_duplicated"] = statistics.possiblyDuplicatedRecords
    case "group":
        result["fill_acks"] = KafkaAcks.leader.description
        result["keys"] = true
        let producer = try client.makeProducer(producerConfiguration(config, acks: .leader))
        let fillStart = clock.now
        // Keyed, so the records spread over every partition.
        try await produceAll(producer, topic: topic, count: config.msgs, size: config.size, keyed: true)
        try await producer.close()
        result["fill_secs"] = rounded(seconds(clock.now - fillStart), 1e3)
        (elapsed, cpu) = try await runGroup(config, topic: topic, client: client, clientSettings: clientSettings, result: &result)
    default:
        if config.topic == nil {
            result["fill_acks"] = KafkaAcks.leader.description
            let producer = try client.makeProducer(producerConfiguration(config, acks: .leader))
            let fillStart = clock.now
            try await produceAll(producer, topic: topic, count: config.msgs, size: config.size, keyed: config.keys)
            try await producer.close()
            result["fill_secs"] = rounded(seconds(clock.now - fillStart), 1e3)
        }

        var consumerSettings = KafkaConsumerConfiguration()
        consumerSettings.checkCRCs = config.checkCRCs
        if let bound = config.maxBufferedBytes { consumerSettings.maxBufferedBytes = bound }
        if let bound = config.fetchMaxBytes { consumerSettings.fetchMaxBytes = bound }
        result["fetch_max_bytes"] = consumerSettings.fetchMaxBytes
        result["check_crcs"] = config.checkCRCs
        result["max_buffered_bytes"] = consumerSettings.maxBufferedBytes
        result["poll_records"] = config.pollRecords
        let consumer = try client.makeConsumer(consumerSettings)
        let cpuStart = cpuTimes()
        let start = clock.now
        for partition in 0..<partitions {
            try await consumer.assign(topic: topic, partition: partition, from: .offset(0))
        }
        var received = 0
        var bytes = 0
        var lastProgress = clock.now
        while received < config.msgs {
            let records = try await consumer.poll(maxRecords: config.pollRecords, timeout: .milliseconds(200))
            if records.isEmpty {
                if clock.now - lastProgress > .seconds(30) {
                    throw KafkaError(.timedOut, "no record for 30 s after \(received) of \(config.msgs); is the broker still up?", topic: topic)
                }
                continue
            }
            lastProgress = clock.now
            received += records.count
            for record in records { bytes += record.value?.count ?? 0 }
        }
        elapsed = clock.now - start
        let cpuEnd = cpuTimes()
        cpu = (cpuEnd.user - cpuStart.user, cpuEnd.sys - cpuStart.sys)
        consumer.close()
        result["received"] = received
        result["value_bytes"] = bytes
        result["cpu_total"] = rounded(cpuEnd.user + cpuEnd.sys, 1e3)
    }
    if config.topic == nil { _ = try? await client.deleteTopics([topic]) }
    let secs = seconds(elapsed)
    result["secs"] = rounded(secs, 1e4)
    result["rate"] = Int((Double(config.msgs) / secs).rounded())
    result["mbps"] = rounded(Double(config.msgs) * Double(config.size) / secs / 1e6, 10)
    result["cpu_user"] = rounded(cpu.user, 1e3)
    result["cpu_sys"] = rounded(cpu.sys, 1e3)
    result["cpu_s_per_1m"] = rounded((cpu.user + cpu.sys) / Double(config.msgs) * 1e6, 1e3)
    result["maxrss_kb"] = peakRSSKB()
    return result
}

if CommandLine.arguments.dropFirst().first == "codec" {
    exit(await CodecBench.run(Array(CommandLine.arguments.dropFirst(2))))
}
let config = parse()
do {
    let result = try await run(config)
    let order = ["mode", "msgs", "size", "partitions", "acks", "codec", "linger_ms", "batch_size", "keys", "check_crcs",
                 "secs", "rate", "mbps", "delivered", "failed", "requests", "retried_batches", "possibly_duplicated",
                 "session_timeout_ms", "heartbeat_ms", "assignor", "first_record_ms", "rebalance_ms", "members",
                 "group_first_record_ms", "rate_after_first_record", "processed", "duplicates",
                 "fetch_max_bytes", "max_buffered_bytes", "poll_records", "fill_secs", "received", "value_bytes", "cpu_user", "cpu_sys", "cpu_s_per_1m", "cpu_total", "maxrss_kb"]
    print("kafka-bench (Tributary) on \(ProcessInfo.processInfo.activeProcessorCount) cores")
    for key in order { if let value = result[key] { print("  \(BenchOutput.pad(key, 24)) \(value)") } }
    print(BenchOutput.json(result))
} catch {
    StandardStreams.writeError(text: "kafka-bench: \(error)\n")
    exit(2)
}
