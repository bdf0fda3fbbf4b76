import Foundation
import SoakCore
import Testing
import TributaryTestSupport

/// The fault matrix at CI size: `tributary-soak --duration 60s` with every scenario, its own
/// brokers, its report read back. Fails when the tool exits non-zero, an acknowledged message
/// was lost, a scenario is missing, carried no traffic or saw no fault.
@Suite("tributary-soak end to end", .serialized)
struct SoakEndToEndTests {
    @Test func sixtySecondFaultMatrixLosesNothingAcknowledged() async throws {
        let reportPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("tributary-soak-\(UUID().uuidString.prefix(8)).md").path
        defer { try? FileManager.default.removeItem(atPath: reportPath) }
        let environment = [
            "NATS_SERVER_BIN": try BrokerEnvironment.natsServerBinary(),
            "TANSU_BIN": try BrokerEnvironment.recorded("TANSU_BIN"),
        ]
        let soak = ChildProcess(try toolPath("tributary-soak"),
                                ["--duration", "60s", "--seed", "20261206", "--report", reportPath],
                                environment: environment)
        try soak.start()
        // 60 s of traffic, up to 60 s of drain, broker start-up and shutdown.
        let result = await soak.finish(timeout: .seconds(240))
        #expect(result.status == 0, "stdout:\n\(result.stdout)\nstderr:\n\(result.stderr)")

        let report = try String(contentsOfFile: reportPath, encoding: .utf8)
        #expect(report == result.stdout)
        #expect(report.contains("verdict: PASS"), "\(report)")
        let rows = SoakReport.parseTable(report)
        // Every table line parsed: a malformed row would otherwise be skipped unseen.
        let tableLines = report.split(separator: "\n").filter { $0.hasPrefix("| ") }.count
        #expect(rows.count == tableLines - 1, "\(report)")
        for scenario in SoakScenario.allCases {
            let scenarioRows = rows.filter { $0.row.scenario == scenario.rawValue }
            #expect(!scenarioRows.isEmpty, "no rows for \(scenario.rawValue):\n\(report)")
            for parsed in scenarioRows {
                #expect(parsed.row.sent > 0, "\(scenario.rawValue)/\(parsed.row.traffic) carried no traffic:\n\(report)")
                #expect(parsed.faults > 0, "\(scenario.rawValue) saw no fault:\n\(report)")
                if parsed.row.delivery != .atMostOnce {
                    #expect(parsed.row.lost == 0, "\(scenario.rawValue)/\(parsed.row.traffic) lost acknowledged messages:\n\(report)")
                    #expect(parsed.row.acknowledged > 0, "\(scenario.rawValue)/\(parsed.row.traffic) had nothing acknowledged:\n\(report)")
                } else {
                    #expect(parsed.row.received > 0, "\(scenario.rawValue)/\(parsed.row.traffic) received nothing:\n\(report)")
                }
            }
        }
    }
}
