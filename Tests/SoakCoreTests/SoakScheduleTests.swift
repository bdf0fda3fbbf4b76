import SoakCore
import Testing

@Suite("Soak schedule")
struct SoakScheduleTests {
    @Test func sameSeedSameScheduleOtherSeedOtherSchedule() throws {
        let a = try SoakSchedule(duration: .seconds(600), scenarios: SoakScenario.allCases, seed: 7)
        let b = try SoakSchedule(duration: .seconds(600), scenarios: SoakScenario.allCases, seed: 7)
        let c = try SoakSchedule(duration: .seconds(600), scenarios: SoakScenario.allCases, seed: 8)
        #expect(a == b)
        #expect(a.faults != c.faults)
    }

    @Test func faultsAreSortedAndHoldWithinTheWindow() throws {
        for seconds in [30, 60, 1800] {
            let schedule = try SoakSchedule(duration: .seconds(seconds), scenarios: SoakScenario.allCases, seed: 42)
            #expect(schedule.faults.map(\.at) == schedule.faults.map(\.at).sorted())
            for fault in schedule.faults {
                #expect(fault.at >= schedule.warmUp)
                #expect(fault.at + fault.hold <= schedule.duration - schedule.quietTail)
            }
        }
    }

    @Test func everyScenarioGetsAFaultInAMinute() throws {
        let schedule = try SoakSchedule(duration: .seconds(60), scenarios: SoakScenario.allCases, seed: 1)
        for scenario in SoakScenario.allCases {
            #expect(!schedule.faults(of: scenario).isEmpty, "\(scenario.rawValue)")
        }
    }

    @Test func aSubsetKeepsEachScenariosFaults() throws {
        let all = try SoakSchedule(duration: .seconds(300), scenarios: SoakScenario.allCases, seed: 99)
        let one = try SoakSchedule(duration: .seconds(300), scenarios: [.kafkaRestart], seed: 99)
        #expect(one.faults == all.faults(of: .kafkaRestart))
        #expect(one.faults.allSatisfy { $0.scenario == .kafkaRestart })
    }

    @Test func tooShortIsRefused() {
        #expect(throws: SoakScheduleError.self) {
            try SoakSchedule(duration: .seconds(29), scenarios: SoakScenario.allCases, seed: 1)
        }
    }

    @Test func scenarioListsParseInMatrixOrder() throws {
        #expect(try SoakScenario.parseList("") == SoakScenario.allCases)
        #expect(try SoakScenario.parseList("all") == SoakScenario.allCases)
        #expect(try SoakScenario.parseList("hostile-peer, nats-restart") == [.natsRestart, .hostilePeer])
        #expect(throws: SoakScheduleError.self) { try SoakScenario.parseList("nats-restart,partition") }
    }
}
