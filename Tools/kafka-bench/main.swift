// kafka-bench: produce and consume throughput of the Tributary Kafka client against a real broker.
//
//   kafka-bench produce [--msgs N] [--size BYTES] [--acks 0|1|all] [--partitions P] [--codec C]
//                       [--linger MS] [--batch-size BYTES] [--keys] [-b BROKERS]
//   kafka-bench consume [--msgs N] [--size BYTES] [--partitions P] [-b BROKERS]
//
// Each run creates a fresh topic. Prints a readable table, then one JSON line:
// {"mode":…,"msgs":…,"size":…,"secs":…,"rate":…,"cpu_user":…,"cpu_sys":…,"maxrss_kb":…, …}
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TributaryCompression
import TributaryKafka

struct BenchConfig {
    var mode = ""
    var msgs = 1_000_000
    var size = 100
    var acks = KafkaAcks.leader
    var partitions: Int32 = 1
    var codec = KafkaCompressionCodec.none
    var lingerMs = 5
    var batchSize = KafkaProducerConfiguration.defaultBatchSize
    var keys = false
    var checkCRCs = true
    var brokers: String?
    var topicPrefix = "kafka-bench"
}

func usage(_ message: String? = nil) -> Never {
    if let message { FileHandle.standardError.write(Data("kafka-bench: \(message)\n".utf8)) }
    let text = """
    usage: kafka-bench produce|consume [flags]
      produce  produce N records to a fresh topic (fire-and-forget produce, then flush)
      consume  fill a fresh topic with N records, then read every partition from offset 0;
               rate and CPU cover the reading only
      -b, --brokers LIST   bootstrap host:port[,host:port] (default KAFKA_BROKERS, else localhost:9092)
      --msgs N             record count (default 1000000)
      --size BYTES         value size (default 100)
      --partitions P       partitions of the fresh topic (default 1)
      --acks 0|1|all       produce acks (default 1; the consume fill uses 1)
      --codec C            none|gzip|snappy|lz4|zstd (default none)
      --linger MS          linger.ms (default 5)
      --batch-size BYTES   batch.size (default \(KafkaProducerConfiguration.defaultBatchSize))
      --keys               keyed records (8-byte key, the record number) instead of keyless
      --no-check-crcs      consume without checking batch CRCs (check.crcs=false, librdkafka's default)
      --topic-prefix S     name prefix of the fresh topic (default kafka-bench)
    Ends with one JSON line: mode, msgs, size, secs, rate, mbps, cpu_user, cpu_sys, cpu_s_per_1m,
    maxrss_kb, and the settings used.
    """
    FileHandle.standardError.write(Data((text + "\n").utf8))
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
        default:
            if arg.hasPrefix("-") || !config.mode.isEmpty { usage("unexpected argument '\(arg)'") }
            config.mode = arg
        }
    }
    guard ["produce", "consume"].contains(config.mode) else { usage("mode must be produce or consume") }
    return config
}

func peakRSSKB() -> Int {
    // VmHWM of this process image; ru_maxrss can carry over a larger pre-exec parent.
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.dropFirst(6).trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " kB", with: "")) ?? -1
    }
    return -1
}

func cpuTimes() -> (user: Double, sys: Double) {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return (Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
            Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6)
}

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

func run(_ config: BenchConfig) async throws -> [String: Any] {
    var clientSettings = KafkaClientConfiguration()
    if let brokers = config.brokers { clientSettings = try KafkaClientConfiguration(bootstrapServers: brokers) }
    clientSettings.clientID = "kafka-bench"
    let client = try await KafkaClient.connect(clientSettings)
    defer { client.close() }

    let topic = "\(config.topicPrefix)-\(config.mode)-\(getpid())-\(Int(Date().timeIntervalSince1970 * 1000))"
    try await client.createTopic(KafkaNewTopic(name: topic, partitions: config.partitions))

    var result: [String: Any] = [
        "mode": config.mode, "msgs": config.msgs, "size": config.size, "client": "tributary",
        "partitions": Int(config.partitions), "codec": config.codec.description, "linger_ms": config.lingerMs,
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
    default:
        result["fill_acks"] = KafkaAcks.leader.description
        let producer = try client.makeProducer(producerConfiguration(config, acks: .leader))
        let fillStart = clock.now
        try await produceAll(producer, topic: topic, count: config.msgs, size: config.size, keyed: config.keys)
        try await producer.close()
        result["fill_secs"] = rounded(seconds(clock.now - fillStart), 1e3)

        var consumerSettings = KafkaConsumerConfiguration()
        consumerSettings.checkCRCs = config.checkCRCs
        result["check_crcs"] = config.checkCRCs
        let consumer = try client.makeConsumer(consumerSettings)
        let cpuStart = cpuTimes()
        let start = clock.now
        for partition in 0..<config.partitions {
            try await consumer.assign(topic: topic, partition: partition, from: .offset(0))
        }
        var received = 0
        var bytes = 0
        var lastProgress = clock.now
        while received < config.msgs {
            let records = try await consumer.poll(maxRecords: 100_000, timeout: .milliseconds(200))
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
    _ = try? await client.deleteTopics([topic])
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

let config = parse()
do {
    let result = try await run(config)
    let order = ["mode", "msgs", "size", "partitions", "acks", "codec", "linger_ms", "batch_size", "keys", "check_crcs",
                 "secs", "rate", "mbps", "delivered", "failed", "requests", "retried_batches", "possibly_duplicated",
                 "fill_secs", "received", "value_bytes", "cpu_user", "cpu_sys", "cpu_s_per_1m", "cpu_total", "maxrss_kb"]
    print("kafka-bench (Tributary) on \(ProcessInfo.processInfo.activeProcessorCount) cores")
    for key in order { if let value = result[key] { print("  \(key.padding(toLength: 20, withPad: " ", startingAt: 0)) \(value)") } }
    let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
    print(String(decoding: json, as: UTF8.self))
} catch {
    FileHandle.standardError.write(Data("kafka-bench: \(error)\n".utf8))
    exit(2)
}
