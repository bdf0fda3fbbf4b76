// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Tributary",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TributaryNATS", targets: ["TributaryNATS"]),
        .library(name: "TributaryNATSProtocol", targets: ["TributaryNATSProtocol"]),
        .library(name: "TributaryTransport", targets: ["TributaryTransport"]),
        .library(name: "TributaryTLS", targets: ["TributaryTLS"]),
        .library(name: "TributaryJetStream", targets: ["TributaryJetStream"]),
        .library(name: "TributaryKafka", targets: ["TributaryKafka"]),
        .library(name: "TributaryBridge", targets: ["TributaryBridge"]),
        .executable(name: "nats-pub", targets: ["nats-pub"]),
        .executable(name: "nats-sub", targets: ["nats-sub"]),
        .executable(name: "nats-req", targets: ["nats-req"]),
        .executable(name: "nats-reply", targets: ["nats-reply"]),
        .executable(name: "nats-bench", targets: ["nats-bench"]),
        .executable(name: "nats-stream", targets: ["nats-stream"]),
        .executable(name: "nats-kv", targets: ["nats-kv"]),
        .executable(name: "nats-consumer", targets: ["nats-consumer"]),
        .executable(name: "nats-obj", targets: ["nats-obj"]),
        .executable(name: "kafka-bench", targets: ["kafka-bench"]),
        .executable(name: "kafka-cat", targets: ["kafka-cat"]),
        .executable(name: "tributary-bridge", targets: ["tributary-bridge"]),
        .executable(name: "bridge-bench", targets: ["bridge-bench"]),
        .executable(name: "tributary-gen", targets: ["tributary-gen"]),
        .executable(name: "tributary-soak", targets: ["tributary-soak"]),
    ],
    targets: [
        // MARK: Libraries
        .target(name: "CTributaryAccel"),
        .target(name: "TributaryWire", dependencies: ["CTributaryAccel"], swiftSettings: strict),
        .target(name: "TributaryCrypto", dependencies: ["CTributaryAccel"], swiftSettings: strict),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "TributaryCompression", dependencies: ["CZlib", "TributaryWire"], swiftSettings: strict),
        .target(name: "TributaryKafkaProtocol", dependencies: ["TributaryWire", "TributaryCompression", "TributaryCrypto"], swiftSettings: strict),
        .target(name: "TributaryKafka", dependencies: ["TributaryKafkaProtocol", "TributaryCompression", "TributaryTransport", "TributaryTLS", "TributaryWire"], swiftSettings: strict),
        .target(name: "TributaryTransport", dependencies: ["TributaryWire"], swiftSettings: strict),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .target(name: "TributaryTLS", dependencies: ["COpenSSL", "TributaryTransport", "TributaryWire"], swiftSettings: strict),
        .target(name: "TributaryNATSProtocol", dependencies: ["TributaryWire", "TributaryCrypto"], swiftSettings: strict),
        .target(
            name: "TributaryNATS",
            dependencies: ["TributaryNATSProtocol", "TributaryTransport", "TributaryTLS", "TributaryCrypto", "TributaryWire"],
            swiftSettings: strict
        ),
        .target(name: "TributaryJetStream", dependencies: ["TributaryNATS", "TributaryCrypto", "TributaryWire"],
                swiftSettings: strict + [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
        .target(name: "TributaryBridge", dependencies: ["TributaryNATS", "TributaryJetStream", "TributaryKafka", "TributaryWire"], swiftSettings: strict),

        // MARK: Tools
        .target(name: "TributaryGenKit", path: "Tools/TributaryGenKit", swiftSettings: strict),
        .executableTarget(name: "tributary-gen", dependencies: ["TributaryGenKit"], path: "Tools/tributary-gen", swiftSettings: strict),
        .target(name: "ToolSupport", dependencies: ["TributaryNATS", "TributaryNATSProtocol"], path: "Tools/ToolSupport", swiftSettings: strict),
        .executableTarget(name: "nats-pub", dependencies: ["JetStreamToolSupport", "ToolSupport", "TributaryJetStream", "TributaryNATS"], path: "Tools/nats-pub", swiftSettings: strict),
        .executableTarget(name: "nats-sub", dependencies: ["JetStreamToolSupport", "ToolSupport", "TributaryJetStream", "TributaryNATS"], path: "Tools/nats-sub", swiftSettings: strict),
        .executableTarget(name: "nats-req", dependencies: ["ToolSupport", "TributaryNATS"], path: "Tools/nats-req", swiftSettings: strict),
        .executableTarget(name: "nats-reply", dependencies: ["ToolSupport", "TributaryNATS"], path: "Tools/nats-reply", swiftSettings: strict),
        .executableTarget(name: "nats-bench", dependencies: ["ToolSupport", "TributaryJetStream", "TributaryNATS"], path: "Tools/nats-bench", swiftSettings: strict),
        .target(
            name: "JetStreamToolSupport",
            dependencies: ["ToolSupport", "TributaryJetStream", "TributaryNATS"],
            path: "Tools/JetStreamToolSupport",
            swiftSettings: strict
        ),
        .executableTarget(name: "nats-stream", dependencies: ["JetStreamToolSupport", "ToolSupport", "TributaryJetStream"], path: "Tools/nats-stream", swiftSettings: strict),
        .executableTarget(name: "nats-obj", dependencies: ["JetStreamToolSupport", "ToolSupport", "TributaryJetStream", "TributaryNATS"], path: "Tools/nats-obj", swiftSettings: strict),
        .executableTarget(name: "nats-consumer", dependencies: ["JetStreamToolSupport", "ToolSupport", "TributaryJetStream"], path: "Tools/nats-consumer", swiftSettings: strict),
        .executableTarget(name: "nats-kv", dependencies: ["JetStreamToolSupport", "ToolSupport", "TributaryJetStream"], path: "Tools/nats-kv", swiftSettings: strict),
        .executableTarget(name: "kafka-bench", dependencies: ["ToolSupport", "TributaryKafka", "TributaryCompression"], path: "Tools/kafka-bench", swiftSettings: strict),
        .target(
            name: "KafkaCatCore",
            dependencies: ["ToolSupport", "TributaryKafka", "TributaryKafkaProtocol", "TributaryCompression"],
            path: "Tools/KafkaCatCore",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "kafka-cat",
            dependencies: ["KafkaCatCore", "ToolSupport", "TributaryKafka", "TributaryKafkaProtocol"],
            path: "Tools/kafka-cat",
            swiftSettings: strict
        ),
        .target(
            name: "BridgeToolSupport",
            dependencies: ["KafkaCatCore", "ToolSupport", "TributaryBridge", "TributaryJetStream", "TributaryKafka", "TributaryNATS"],
            path: "Tools/BridgeToolSupport",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "tributary-bridge",
            dependencies: ["BridgeToolSupport", "ToolSupport", "TributaryBridge", "TributaryKafka", "TributaryNATS"],
            path: "Tools/tributary-bridge",
            exclude: ["Dockerfile"],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "bridge-bench",
            dependencies: ["ToolSupport", "TributaryBridge", "TributaryJetStream", "TributaryKafka", "TributaryNATS"],
            path: "Tools/bridge-bench",
            swiftSettings: strict
        ),

        // The fault matrix: SoakCore holds the pure logic (ledger, schedule, report, verdict);
        // tributary-soak launches private brokers through the test support's launchers.
        .target(name: "SoakCore", dependencies: ["TributaryWire"], path: "Tools/SoakCore", swiftSettings: strict),
        .executableTarget(
            name: "tributary-soak",
            dependencies: ["SoakCore", "ToolSupport", "TributaryJetStream", "TributaryKafka", "TributaryNATS", "TributaryTestSupport", "TributaryWire"],
            path: "Tools/tributary-soak",
            swiftSettings: strict
        ),

        // MARK: Examples (mirrors of the README's code, built by CI)
        .executableTarget(name: "nats-quickstart", dependencies: ["TributaryNATS"], path: "Examples/NATSQuickStart", swiftSettings: strict),
        .executableTarget(name: "nats-credentials", dependencies: ["TributaryNATS"], path: "Examples/NATSCredentials", swiftSettings: strict),
        .executableTarget(name: "nats-typed-throws", dependencies: ["TributaryNATS"], path: "Examples/NATSTypedThrows", swiftSettings: strict),
        .executableTarget(name: "jetstream-quickstart", dependencies: ["TributaryJetStream"], path: "Examples/JetStreamQuickStart", swiftSettings: strict),
        .executableTarget(name: "kv-quickstart", dependencies: ["TributaryJetStream"], path: "Examples/KeyValueQuickStart", swiftSettings: strict),
        .executableTarget(name: "objectstore-quickstart", dependencies: ["TributaryJetStream", "TributaryNATS"], path: "Examples/ObjectStoreQuickStart", swiftSettings: strict),
        .executableTarget(name: "kafka-quickstart", dependencies: ["TributaryKafka"], path: "Examples/KafkaQuickStart", swiftSettings: strict),
        .executableTarget(name: "secure-connect", dependencies: ["TributaryNATS"], path: "Examples/SecureConnect", swiftSettings: strict),
        .executableTarget(name: "order-pipeline", dependencies: ["TributaryKafka"], path: "Examples/OrderPipeline", swiftSettings: strict),
        .executableTarget(name: "kafka-sasl", dependencies: ["TributaryKafka"], path: "Examples/KafkaSASL", swiftSettings: strict),
        .executableTarget(name: "kafka-transactions", dependencies: ["TributaryKafka"], path: "Examples/KafkaTransactions", swiftSettings: strict),
        .executableTarget(name: "bridge-example", dependencies: ["TributaryBridge", "TributaryKafka", "TributaryNATS"], path: "Examples/Bridge", swiftSettings: strict),

        // MARK: Tests
        .target(
            name: "TributaryTestSupport",
            dependencies: ["TributaryNATS", "TributaryNATSProtocol", "TributaryKafkaProtocol", "TributaryTransport", "TributaryWire"],
            path: "Tests/Support/TributaryTestSupport",
            swiftSettings: strict
        ),
        .testTarget(name: "TributaryNATSProtocolTests", dependencies: ["TributaryNATSProtocol", "TributaryTestSupport"], swiftSettings: strict),
        .testTarget(name: "TributaryCryptoTests", dependencies: ["TributaryCrypto"], swiftSettings: strict),
        .testTarget(name: "TributaryWireTests", dependencies: ["TributaryWire", "TributaryTestSupport"], swiftSettings: strict),
        .testTarget(name: "TributaryCompressionTests", dependencies: ["TributaryCompression", "TributaryTestSupport"], swiftSettings: strict),
        .testTarget(name: "TributaryKafkaProtocolTests", dependencies: ["TributaryKafkaProtocol", "TributaryTestSupport"], swiftSettings: strict),
        .testTarget(name: "TributaryNATSTests", dependencies: ["TributaryNATS", "TributaryTestSupport", "TributaryWire"], swiftSettings: strict),
        .testTarget(name: "TributaryTransportTests", dependencies: ["TributaryTransport", "TributaryTestSupport"], swiftSettings: strict),
        .testTarget(name: "TributaryTLSTests", dependencies: ["TributaryTLS", "TributaryTransport", "TributaryTestSupport"], swiftSettings: strict),
        .testTarget(name: "GeneratorTests", dependencies: ["TributaryGenKit"], swiftSettings: strict),
        .testTarget(name: "TributaryJetStreamTests", dependencies: ["TributaryJetStream"], swiftSettings: strict),
        .testTarget(name: "ToolSupportTests", dependencies: ["ToolSupport", "TributaryNATS"], swiftSettings: strict),
        .testTarget(name: "JetStreamToolSupportTests", dependencies: ["JetStreamToolSupport", "ToolSupport", "TributaryJetStream"], swiftSettings: strict),
        .testTarget(name: "ConformanceTests", dependencies: ["TributaryNATS", "TributaryJetStream", "TributaryKafka", "TributaryKafkaProtocol", "TributaryBridge", "TributaryTestSupport"], swiftSettings: strict),
        .testTarget(name: "TributaryBridgeTests", dependencies: ["TributaryBridge", "TributaryKafka", "TributaryNATS"], swiftSettings: strict),
        .testTarget(name: "BridgeToolSupportTests", dependencies: ["BridgeToolSupport", "ToolSupport", "TributaryBridge", "TributaryKafka"], swiftSettings: strict),
        .testTarget(name: "TributaryKafkaTests", dependencies: ["TributaryKafka", "TributaryKafkaProtocol", "TributaryCompression", "TributaryNATS", "TributaryTestSupport", "TributaryWire"], swiftSettings: strict),
        .testTarget(name: "SoakCoreTests", dependencies: ["SoakCore"], swiftSettings: strict),
        .testTarget(name: "KafkaCatCoreTests", dependencies: ["KafkaCatCore", "ToolSupport", "TributaryKafka"], swiftSettings: strict),
        .testTarget(name: "InteropTests", dependencies: ["SoakCore", "TributaryNATS", "TributaryJetStream", "TributaryKafka", "TributaryKafkaProtocol", "TributaryCompression", "TributaryTestSupport", "TributaryWire"], exclude: ["peers"], swiftSettings: strict),
    ]
)
