import Foundation
import Synchronization
import Testing
import TributaryNATS
import TributaryTestSupport

/// Options for a test connection: fast reconnects, short timeouts.
func testOptions(_ url: String) -> NATSOptions {
    var options = NATSOptions(url: url)
    options.reconnectWait = .milliseconds(100)
    options.reconnectJitter = .milliseconds(20)
    options.connectTimeout = .seconds(2)
    options.maxReconnectAttempts = 200
    options.name = "tributary-conformance"
    return options
}

/// Options for the shared server: ``testOptions(_:)`` plus, when set, the variables the tools
/// and natscli read, so the shared suites run against your own TLS or credential-protected
/// server: `NATS_CA`, `NATS_CERT`, `NATS_KEY` (TLS; `NATS_CA` alone keeps verification on with
/// that CA) and `NATS_CREDS` or `NATS_NKEY` (a `.creds` file or a seed file).
func sharedOptions(_ url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> NATSOptions {
    var options = testOptions(url)
    func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
    let ca = value("NATS_CA"), certificate = value("NATS_CERT"), key = value("NATS_KEY")
    if (certificate == nil) != (key == nil) {
        throw BrokerEnvironmentError("NATS_CERT and NATS_KEY go together (a client certificate and its key)")
    }
    if ca != nil || certificate != nil {
        options.tls = TLSConfiguration(trustRoots: ca.map { .caFile($0) } ?? .system, certificateFile: certificate, privateKeyFile: key)
    }
    switch (value("NATS_CREDS"), value("NATS_NKEY")) {
    case (let creds?, nil): options.credentials = .credsFile(creds)
    case (nil, let seed?): options.credentials = .nkeySeedFile(seed)
    case (nil, nil): break
    case (_?, _?): throw BrokerEnvironmentError("set NATS_CREDS or NATS_NKEY, not both")
    }
    return options
}

/// Connects to the shared server started by Tools/brokers.sh (or NATS_URL, with the variables
/// ``sharedOptions(_:environment:)`` reads).
func connectShared() async throws -> NATSClient {
    try await NATSClient.connect(try sharedOptions(try BrokerEnvironment.natsURL()))
}

/// Records every event of a client.
final class EventRecorder: Sendable {
    private final class Storage: Sendable {
        let events = Mutex<[NATSEvent]>([])
    }
    private let storage = Storage()
    private let task: Task<Void, Never>

    init(_ client: NATSClient) {
        let storage = self.storage
        task = Task {
            for await event in client.events { storage.events.withLock { $0.append(event) } }
        }
    }

    var all: [NATSEvent] { storage.events.withLock { $0 } }

    func count(where predicate: (NATSEvent) -> Bool) -> Int { all.filter(predicate).count }

    deinit { task.cancel() }
}
