import Foundation
import Synchronization
import Testing
import TributaryNATS
import TributaryTestSupport

/// A subject unique to one test run, so parallel tests never see each other's messages.
func uniqueSubject(_ prefix: String) -> String {
    "\(prefix).\(UInt32.random(in: 0...UInt32.max))\(UInt32.random(in: 0...UInt32.max))"
}

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

struct TimedOut: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Collects `count` messages from `subscription`, failing after `timeout`.
func collect(_ subscription: NATSSubscription, count: Int, timeout: Duration = .seconds(10)) async throws -> [NATSMessage] {
    try await withThrowingTaskGroup(of: [NATSMessage]?.self) { group in
        group.addTask {
            var messages: [NATSMessage] = []
            for try await message in subscription {
                messages.append(message)
                if messages.count == count { break }
            }
            return messages
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        guard let first else { throw TimedOut(what: "\(count) messages on '\(subscription.subject)'") }
        return first
    }
}

/// Waits until `condition` holds, polling, or throws after `timeout`.
func eventually(_ what: String, timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TimedOut(what: what)
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
