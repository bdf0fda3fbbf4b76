import TributaryWire

/// The fault scenarios of the matrix, each a row group in the report.
public enum SoakScenario: String, Sendable, CaseIterable, Equatable, Comparable {
    /// The single JetStream nats-server is stopped and started again (same port and store).
    case natsRestart = "nats-restart"
    /// A member of a three-node NATS cluster is killed (SIGKILL) and started again.
    case clusterMemberLoss = "nats-cluster-member-loss"
    /// Every Kafka connection through the fault proxy is cut for a while (a partition).
    case kafkaPartition = "kafka-partition"
    /// The Kafka broker (tansu, memory storage) is killed and started again.
    case kafkaRestart = "kafka-restart"
    /// Extra consumer-group members join and leave.
    case rebalanceStorm = "rebalance-storm"
    /// A burst floods a subscription with a small pending limit and a slow reader.
    case slowConsumer = "slow-consumer"
    /// Clients connect to a server that speaks garbage.
    case hostilePeer = "hostile-peer"

    public static func < (lhs: SoakScenario, rhs: SoakScenario) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Parses a comma-separated list (`all` or empty: every scenario), keeping the matrix order.
    ///
    /// - Throws: ``SoakScheduleError`` naming an unknown scenario.
    public static func parseList(_ text: String) throws(SoakScheduleError) -> [SoakScenario] {
        let names = text.split(separator: ",").map { String($0.filter { $0 != " " }) }.filter { !$0.isEmpty }
        if names.isEmpty || names == ["all"] { return allCases }
        var result = Set<SoakScenario>()
        for name in names {
            guard let scenario = SoakScenario(rawValue: name) else {
                throw SoakScheduleError("unknown scenario '\(name)'; known: \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            result.insert(scenario)
        }
        return result.sorted()
    }

    /// Seconds between two faults of this scenario (drawn uniformly from this range), and how
    /// long a fault holds (a server stays down, a partition stays cut, members stay joined).
    var pacing: (gap: ClosedRange<Int>, hold: ClosedRange<Int>) {
        switch self {
        case .natsRestart: (8...16, 1...3)
        case .clusterMemberLoss: (8...16, 2...5)
        case .kafkaPartition: (8...16, 2...5)
        case .kafkaRestart: (12...20, 1...2)
        case .rebalanceStorm: (4...8, 2...4)
        case .slowConsumer: (4...8, 0...0)
        case .hostilePeer: (2...4, 0...0)
        }
    }
}

/// A usage problem with the scenario list or the schedule's inputs.
public struct SoakScheduleError: Error, Equatable, CustomStringConvertible, Sendable {
    /// What went wrong and what to do.
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One fault: when it starts (from the start of the run), which scenario it hits, a choice
/// the scenario uses (the cluster member to kill, how many members join, the burst size...),
/// and how long it holds.
public struct SoakFault: Sendable, Equatable {
    public var at: Duration
    public var scenario: SoakScenario
    public var hold: Duration
    /// A seeded number for the scenario's own choice (`choice % n`).
    public var choice: UInt64
}

/// Which fault happens when: seeded and deterministic, so a failing run can be repeated with
/// its seed. Faults start after a warm-up and stop before a quiet tail, so that every fault is
/// over and the consumers can catch up before the counts are taken.
public struct SoakSchedule: Sendable, Equatable {
    /// Every fault, sorted by start time.
    public let faults: [SoakFault]
    /// How long traffic runs.
    public let duration: Duration
    /// No fault starts before this.
    public let warmUp: Duration
    /// No fault is still holding after `duration - quietTail`.
    public let quietTail: Duration

    /// Builds the schedule for `scenarios` over `duration` from `seed`.
    ///
    /// - Throws: ``SoakScheduleError`` when `duration` is shorter than 30 s (warm-up, one fault
    ///   and the quiet tail need that much).
    public init(duration: Duration, scenarios: [SoakScenario], seed: UInt64) throws(SoakScheduleError) {
        guard duration >= .seconds(30) else {
            throw SoakScheduleError("duration must be at least 30s: warm-up, faults and a quiet tail need it")
        }
        let total = Int(duration.components.seconds)
        let warmUp = 5
        // A tenth of the run, at least 10 s and at most 60 s, is left without faults.
        let tail = min(60, max(10, total / 10))
        var faults: [SoakFault] = []
        for scenario in scenarios {
            // One generator per scenario, derived from the seed and the scenario's position in
            // the matrix, so that choosing fewer scenarios leaves each one's schedule unchanged.
            let index = UInt64(SoakScenario.allCases.firstIndex(of: scenario)!)
            var generator = SeededGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ index &+ 1)
            let pacing = scenario.pacing
            var start = warmUp + Int.random(in: 0...3, using: &generator)
            while true {
                let hold = Int.random(in: pacing.hold, using: &generator)
                guard start + hold <= total - tail else { break }
                faults.append(SoakFault(at: .seconds(start), scenario: scenario, hold: .seconds(hold),
                                        choice: generator.next()))
                start += hold + Int.random(in: pacing.gap, using: &generator)
            }
        }
        faults.sort { ($0.at, $0.scenario) < ($1.at, $1.scenario) }
        self.faults = faults
        self.duration = duration
        self.warmUp = .seconds(warmUp)
        self.quietTail = .seconds(tail)
    }

    /// The faults of one scenario, in order.
    public func faults(of scenario: SoakScenario) -> [SoakFault] {
        faults.filter { $0.scenario == scenario }
    }
}
