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

/// Connects to the shared server started by Tools/brokers.sh (or NATS_URL).
func connectShared() async throws -> NATSClient {
    try await NATSClient.connect(testOptions(try BrokerEnvironment.natsURL()))
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
