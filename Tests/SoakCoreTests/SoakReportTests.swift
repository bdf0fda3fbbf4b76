import SoakCore
import Testing

@Suite("Soak verdict and report")
struct SoakReportTests {
    func row(_ scenario: String, _ traffic: String = "t", _ delivery: SoakDelivery = .atLeastOnce, sent: Int = 10,
             acked: Int = 10, received: Int = 10, lost: Int = 0, wiped: Int = 0, dup: Int = 0, unknown: Int = 0,
             gaps: Int = 0, drops: Int = 0) -> SoakRow {
        SoakRow(scenario: scenario, traffic: traffic, delivery: delivery, sent: sent, acknowledged: acked, failed: 0,
                received: received, lost: lost, wiped: wiped, duplicates: dup, unknown: unknown, gaps: gaps, dropsReported: drops)
    }

    @Test func cleanRunsPass() {
        let verdict = SoakVerdict(rows: [row("a"), row("b", "core", .atMostOnce, acked: 0, received: 7, gaps: 3)],
                                  scenarios: ["a", "b"])
        #expect(verdict.passed)
        #expect(verdict.exitCode == 0)
    }

    @Test func oneLostAcknowledgedMessageFails() {
        let verdict = SoakVerdict(rows: [row("a", lost: 1), row("b")], scenarios: ["a", "b"])
        #expect(!verdict.passed)
        #expect(verdict.exitCode != 0)
        #expect(verdict.failures == ["a/t: 1 acknowledged message(s) never received"])
    }

    @Test func wipedAndDuplicatesDoNotFailButUnknownDoes() {
        #expect(SoakVerdict(rows: [row("a", wiped: 5, dup: 3)], scenarios: ["a"]).passed)
        #expect(!SoakVerdict(rows: [row("a", unknown: 1)], scenarios: ["a"]).passed)
    }

    @Test func aProbeWithoutTypedErrorFails() {
        let verdict = SoakVerdict(rows: [row("h", "nats-connect", .probe, sent: 3, acked: 2, received: 0, lost: 1)], scenarios: ["h"])
        #expect(!verdict.passed)
    }

    @Test func aScenarioWithoutTrafficFails() {
        let missing = SoakVerdict(rows: [row("a")], scenarios: ["a", "b"])
        #expect(missing.failures == ["b: no traffic"])
        let idle = SoakVerdict(rows: [row("a"), row("a", "other", sent: 0, acked: 0, received: 0)], scenarios: ["a"])
        #expect(idle.failures == ["a/other: no traffic"])
    }

    @Test func reportShowsTheTableRSSAndVerdictAndParsesBack() {
        let rows = [
            row("kafka-restart", "kafka-group", sent: 3542, acked: 3542, received: 3518, wiped: 24),
            row("nats-restart", "core-pubsub", .atMostOnce, sent: 100, acked: 0, received: 99, dup: 1, gaps: 1),
            row("slow-consumer", "core-slow-sub", .atMostOnce, sent: 50, acked: 0, received: 20, gaps: 30, drops: 30),
        ]
        let verdict = SoakVerdict(rows: rows, scenarios: ["kafka-restart", "nats-restart", "slow-consumer"])
        let text = SoakReport.render(rows: rows, faults: ["kafka-restart": 2, "nats-restart": 1], duration: "1m0s", seed: 5,
                                     cores: 2, peakRSSKB: 46_844, verdict: verdict)
        #expect(text.contains("| scenario | traffic | delivery | sent | acked | failed | received | lost | wiped | dup | gaps | drops | faults |"))
        #expect(text.contains("| kafka-restart | kafka-group | at-least-once | 3542 | 3542 | 0 | 3518 | 0 | 24 | 0 | - | 0 | 2 |"))
        #expect(text.contains("| nats-restart | core-pubsub | at-most-once | 100 | - | 0 | 99 | - | 0 | 1 | 1 | 0 | 1 |"))
        #expect(text.contains("max client RSS: 45 MiB (46844 KiB)"))
        #expect(text.contains("2 core(s)"))
        #expect(text.contains("verdict: PASS"))
        let parsed = SoakReport.parseTable(text)
        #expect(parsed.map(\.row) == rows)
        #expect(parsed.map(\.faults) == [2, 1, 0])
    }

    @Test func aFailingReportListsTheFailures() {
        let rows = [row("a", lost: 2)]
        let text = SoakReport.render(rows: rows, faults: [:], duration: "1m0s", seed: 1, cores: 2, peakRSSKB: -1,
                                     verdict: SoakVerdict(rows: rows, scenarios: ["a"]))
        #expect(text.contains("verdict: FAIL\n  - a/t: 2 acknowledged message(s) never received"))
        #expect(text.contains("max client RSS: unknown"))
    }
}
