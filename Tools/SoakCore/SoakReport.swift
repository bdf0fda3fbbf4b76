/// One row of the report: one traffic kind within one scenario.
public struct SoakRow: Sendable, Equatable {
    public var scenario: String
    public var traffic: String
    public var delivery: SoakDelivery
    /// Messages (or probe attempts) sent.
    public var sent: Int
    /// Distinct messages the broker acknowledged (for a probe: attempts ending in a typed error).
    public var acknowledged: Int
    /// Sends that ended in a reported error.
    public var failed: Int
    /// Distinct messages received.
    public var received: Int
    /// Acknowledged, never received, not wiped (for a probe: attempts without a typed error).
    public var lost: Int
    /// Acknowledged, then wiped by a restart of a memory-storage broker.
    public var wiped: Int
    /// Receipts beyond the first.
    public var duplicates: Int
    /// Receipts of ids never sent.
    public var unknown: Int
    /// At-most-once traffic: sent and never received.
    public var gaps: Int
    /// Drops the client reported (slow consumer).
    public var dropsReported: Int

    public init(scenario: String, traffic: String, delivery: SoakDelivery, sent: Int, acknowledged: Int, failed: Int,
                received: Int, lost: Int, wiped: Int, duplicates: Int, unknown: Int, gaps: Int, dropsReported: Int) {
        self.scenario = scenario
        self.traffic = traffic
        self.delivery = delivery
        self.sent = sent
        self.acknowledged = acknowledged
        self.failed = failed
        self.received = received
        self.lost = lost
        self.wiped = wiped
        self.duplicates = duplicates
        self.unknown = unknown
        self.gaps = gaps
        self.dropsReported = dropsReported
    }
}

/// The outcome of a run, decided from its rows alone.
public struct SoakVerdict: Sendable, Equatable {
    /// Why the run failed; empty when it passed.
    public var failures: [String]

    /// True when nothing failed.
    public var passed: Bool { failures.isEmpty }

    /// The process exit code: 0 when passed, 1 otherwise.
    public var exitCode: Int32 { passed ? 0 : 1 }

    /// Judges `rows` of the scenarios that ran (`scenarios`): the run fails when an
    /// at-least-once row lost an acknowledged message, a probe ended without a typed error, a
    /// message arrived that was never sent, or a scenario carried no traffic at all. Gaps of
    /// at-most-once traffic, duplicates and wiped records are reported but never fail the run.
    public init(rows: [SoakRow], scenarios: [String]) {
        var failures: [String] = []
        for row in rows {
            switch row.delivery {
            case .atLeastOnce where row.lost > 0:
                failures.append("\(row.scenario)/\(row.traffic): \(row.lost) acknowledged message(s) never received")
            case .probe where row.lost > 0:
                failures.append("\(row.scenario)/\(row.traffic): \(row.lost) attempt(s) against the hostile peer did not end in a typed error")
            default:
                break
            }
            if row.unknown > 0 {
                failures.append("\(row.scenario)/\(row.traffic): \(row.unknown) message(s) received that were never sent")
            }
        }
        for scenario in scenarios {
            let traffic = rows.filter { $0.scenario == scenario }
            if traffic.isEmpty || traffic.allSatisfy({ $0.sent == 0 }) {
                failures.append("\(scenario): no traffic")
            } else if let idle = traffic.first(where: { $0.sent == 0 }) {
                failures.append("\(scenario)/\(idle.traffic): no traffic")
            }
        }
        self.failures = failures
    }
}

/// The report: a table with one line per row, then the peak client RSS, the fault count and
/// the verdict.
public enum SoakReport {
    /// Column titles, in order.
    public static let columns = ["scenario", "traffic", "delivery", "sent", "acked", "failed", "received", "lost", "wiped", "dup", "gaps", "drops", "faults"]

    /// The report as text: a Markdown table (readable in a terminal and pasteable into the
    /// README), then summary lines.
    ///
    /// - Parameters:
    ///   - faults: faults injected per scenario.
    ///   - peakRSSKB: the client process's peak resident memory in KiB (-1: unknown).
    public static func render(rows: [SoakRow], faults: [String: Int], duration: String, seed: UInt64, cores: Int,
                              peakRSSKB: Int, verdict: SoakVerdict) -> String {
        var lines: [String] = []
        lines.append("tributary-soak: \(duration), seed \(seed), \(cores) core(s)")
        lines.append("")
        lines.append("| " + columns.joined(separator: " | ") + " |")
        lines.append("|" + columns.enumerated().map { $0.offset < 3 ? "---" : "---:" }.joined(separator: "|") + "|")
        for row in rows {
            let dash = "-"
            let cells: [String] = [
                row.scenario, row.traffic, row.delivery.rawValue,
                String(row.sent),
                row.delivery == .atMostOnce && row.acknowledged == 0 ? dash : String(row.acknowledged),
                String(row.failed), String(row.received),
                row.delivery == .atMostOnce ? dash : String(row.lost),
                String(row.wiped), String(row.duplicates),
                row.delivery == .atMostOnce ? String(row.gaps) : dash,
                String(row.dropsReported),
                String(faults[row.scenario] ?? 0),
            ]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        lines.append("")
        lines.append("max client RSS: " + (peakRSSKB < 0 ? "unknown" : "\(peakRSSKB / 1024) MiB (\(peakRSSKB) KiB)"))
        if verdict.passed {
            lines.append("verdict: PASS (no acknowledged message lost)")
        } else {
            lines.append("verdict: FAIL")
            lines += verdict.failures.map { "  - \($0)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension SoakReport {
    /// A row read back from a rendered report, with its scenario's fault count.
    public struct ParsedRow: Sendable, Equatable {
        public var row: SoakRow
        public var faults: Int
    }

    /// Reads the table of a report ``render(rows:faults:duration:seed:cores:peakRSSKB:verdict:)``
    /// produced (a dash reads as 0). Lines that are not table rows are skipped; a row with the
    /// wrong number of cells or a non-number where a count belongs is skipped too, so a caller
    /// comparing row counts notices.
    public static func parseTable(_ text: String) -> [ParsedRow] {
        var rows: [ParsedRow] = []
        for line in text.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|").map { String($0.filter { $0 != " " }) }
            guard cells.count == columns.count, cells[0] != columns[0],
                  let delivery = SoakDelivery(rawValue: cells[2]) else { continue }
            let counts = cells[3...].map { $0 == "-" ? 0 : Int($0) }
            guard counts.allSatisfy({ $0 != nil }) else { continue }
            let n = counts.map { $0 ?? 0 }
            rows.append(ParsedRow(
                row: SoakRow(scenario: cells[0], traffic: cells[1], delivery: delivery, sent: n[0], acknowledged: n[1],
                             failed: n[2], received: n[3], lost: n[4], wiped: n[5], duplicates: n[6], unknown: 0,
                             gaps: n[7], dropsReported: n[8]),
                faults: n[9]
            ))
        }
        return rows
    }
}
