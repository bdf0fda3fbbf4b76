import Testing
import TributaryKafka
import TributaryKafkaProtocol
import TributaryTestSupport
import TributaryWire

/// The group member's coordination task against a scripted coordinator: it waits for the
/// membership machine's next deadline, and an injected subscription change or close wakes it
/// before that deadline.
@Suite("KafkaGroupConsumer against a scripted coordinator", .serialized)
struct KafkaGroupConsumerFakeBrokerTests {
    /// What the coordinator saw.
    final class Log: Sendable {
        struct Seen: Sendable {
            /// Each JoinGroup's time and subscribed topics.
            var joins: [(at: ContinuousClock.Instant, topics: [String])] = []
            var heartbeats = 0
            var leaves = 0
        }

        private let seen = Locked(Seen())
        func record(_ change: (inout Seen) -> Void) { seen.withLock { change(&$0) } }
        var value: Seen { seen.withLock { $0 } }
    }

    /// One broker (node 0) that is also the coordinator. Each JoinGroup makes `m-1` a follower
    /// of the next generation; SyncGroup assigns nothing (so nothing is fetched); heartbeats,
    /// LeaveGroup and commits succeed.
    static func broker(_ log: Log) -> InMemoryKafkaBroker {
        InMemoryKafkaBroker { connection, _ in
            connection.serve(topics: [.init(name: "orders", partitions: 1), .init(name: "payments", partitions: 1)]) { request in
                switch request.api {
                case .findCoordinator?:
                    guard let body = try? request.decode(FindCoordinatorRequest.self) else { return false }
                    return (try? connection.respond(FindCoordinatorResponse.naming(0, for: body, version: request.apiVersion), to: request)) ?? false
                case .joinGroup?:
                    guard let body = try? request.decode(JoinGroupRequest.self) else { return false }
                    let topics = body.protocols.first.flatMap { try? KafkaConsumerSubscription(decoding: $0.metadata) }?.topics ?? []
                    var generation: Int32 = 0
                    log.record { seen in
                        seen.joins.append((ContinuousClock.now, topics))
                        generation = Int32(seen.joins.count)
                    }
                    var response = JoinGroupResponse()
                    response.generationID = generation
                    response.protocolType = "consumer"
                    response.protocolName = "range"
                    response.leader = "m-0"
                    response.memberID = "m-1"
                    return (try? connection.respond(response, to: request)) ?? false
                case .syncGroup?:
                    var response = SyncGroupResponse()
                    response.protocolType = "consumer"
                    response.protocolName = "range"
                    response.assignment = (try? KafkaConsumerAssignment(assignedPartitions: []).encode()) ?? []
                    return (try? connection.respond(response, to: request)) ?? false
                case .heartbeat?:
                    log.record { $0.heartbeats += 1 }
                    return (try? connection.respond(HeartbeatResponse(), to: request)) ?? false
                case .leaveGroup?:
                    log.record { $0.leaves += 1 }
                    return (try? connection.respond(LeaveGroupResponse(), to: request)) ?? false
                default:
                    return false
                }
            }
        }
    }

    /// A fresh scripted coordinator with its log, and a client connected to it.
    static func connected() async throws -> (Log, KafkaClient) {
        let log = Log()
        return (log, try await broker(log).connectClient(requestTimeout: .seconds(30)))
    }

    static func member(of client: KafkaClient, heartbeatInterval: Duration) throws -> KafkaGroupConsumer {
        var configuration = KafkaGroupConsumerConfiguration(groupID: "billing", topics: ["orders"])
        configuration.assignors = [.range]
        configuration.sessionTimeout = max(configuration.sessionTimeout, heartbeatInterval * 3)
        configuration.rebalanceTimeout = max(configuration.rebalanceTimeout, configuration.sessionTimeout)
        configuration.heartbeatInterval = heartbeatInterval
        configuration.enableAutoCommit = false
        return try client.makeGroupConsumer(configuration)
    }

    @Test func aSubscriptionChangeRejoinsBeforeTheNextHeartbeatIsDue() async throws {
        let (log, client) = try await Self.connected()
        defer { client.close() }
        // Nothing is due for 10 minutes once the member is stable: only the injected change can
        // wake it. The bounds below are minutes, so a loaded or stalled test process (other
        // tests can hold every Swift concurrency thread for a while) cannot fail them.
        let member = try Self.member(of: client, heartbeatInterval: .seconds(600))
        try await eventually("the member joins generation 1", timeout: .seconds(120)) { member.generationID == 1 }
        #expect(log.value.joins.map(\.topics) == [["orders"]])

        let changed = ContinuousClock.now
        try member.subscribe(to: ["orders", "payments"])
        try await eventually("the member rejoins with the new subscription", timeout: .seconds(120)) { log.value.joins.count == 2 }
        let seen = log.value
        #expect(seen.joins[1].topics == ["orders", "payments"])
        // Long before the heartbeat deadline, and with no heartbeat first.
        #expect(seen.joins[1].at - changed < .seconds(300))
        #expect(seen.heartbeats == 0)
        try await eventually("the member joins generation 2", timeout: .seconds(120)) { member.generationID == 2 }

        let closing = ContinuousClock.now
        await member.close()
        #expect(ContinuousClock.now - closing < .seconds(300))
        #expect(log.value.leaves == 1)
    }

    @Test func heartbeatsFollowTheIntervalAndStopAtClose() async throws {
        let (log, client) = try await Self.connected()
        defer { client.close() }
        let member = try Self.member(of: client, heartbeatInterval: .milliseconds(50))
        try await eventually("three heartbeats", timeout: .seconds(120)) { log.value.heartbeats >= 3 }
        #expect(log.value.joins.count == 1)
        await member.close()
        let afterClose = log.value.heartbeats
        try await Task.sleep(for: .milliseconds(300))
        // At most one heartbeat already under way when close began.
        #expect(log.value.heartbeats <= afterClose + 1)
        #expect(log.value.leaves == 1)
    }
}
