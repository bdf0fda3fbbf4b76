// swift-tools-version: 6.1
// libFuzzer targets for Tributary's decoders of peer input. Not part of the root package: build
// and run them with Tools/fuzz.sh, which passes -sanitize=fuzzer,address and -parse-as-library.
import PackageDescription

/// Each fuzz target: its executable name, source directory and the Tributary products it needs.
let fuzzTargets: [(name: String, directory: String, products: [String], support: [String])] = [
    ("fuzz-nats-parser", "FuzzNATSParser", ["TributaryNATSProtocol"], []),
    ("fuzz-nats-headers-info", "FuzzNATSHeadersInfo", ["TributaryNATSProtocol"], []),
    ("fuzz-nats-creds", "FuzzNATSCreds", ["TributaryNATSProtocol"], []),
    ("fuzz-kafka-frames", "FuzzKafkaFrames", ["TributaryKafka"], []),
    ("fuzz-kafka-responses", "FuzzKafkaResponses", ["TributaryKafka"], []),
    ("fuzz-kafka-records", "FuzzKafkaRecords", ["TributaryKafka"], []),
    ("fuzz-kafka-consumer-protocol", "FuzzKafkaConsumerProtocol", ["TributaryKafka"], []),
    ("fuzz-kafka-scram", "FuzzKafkaSCRAM", ["TributaryKafka"], []),
    ("fuzz-gzip", "FuzzGzip", ["TributaryKafka"], ["FuzzCodecSupport"]),
    ("fuzz-snappy", "FuzzSnappy", ["TributaryKafka"], ["FuzzCodecSupport"]),
    ("fuzz-lz4", "FuzzLZ4", ["TributaryKafka"], ["FuzzCodecSupport"]),
    ("fuzz-zstd", "FuzzZstd", ["TributaryKafka"], ["FuzzCodecSupport"]),
    ("fuzz-jetstream-json", "FuzzJetStreamJSON", ["TributaryJetStream"], []),
]

let package = Package(
    name: "TributaryFuzz",
    platforms: [.macOS(.v15)],
    products: fuzzTargets.map { .executable(name: $0.name, targets: [$0.directory]) },
    dependencies: [.package(name: "Tributary", path: "../..")],
    targets: [
        .target(name: "FuzzSupport", swiftSettings: [.swiftLanguageMode(.v6)]),
        .target(
            name: "FuzzCodecSupport",
            dependencies: ["FuzzSupport", .product(name: "TributaryKafka", package: "Tributary")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ] + fuzzTargets.map { target in
        .executableTarget(
            name: target.directory,
            dependencies: ["FuzzSupport"] + target.support.map { .target(name: $0) } + target.products.map { .product(name: $0, package: "Tributary") },
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    }
)
