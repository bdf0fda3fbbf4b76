import Foundation
import ToolSupport
import TributaryJetStream
import TributaryNATS

/// Text the JetStream tools print, laid out like the nats CLI's. Pure.
public enum JetStreamToolFormat {
    /// `unlimited` for -1 (or nil), else the number.
    static func limit(_ value: Int64?) -> String {
        guard let value, value >= 0 else { return "unlimited" }
        return String(value)
    }

    /// `stream: ORDERS seq: 12 / pending: 3 / subject: orders.new / time: 2024-05-01 10:00:00`
    /// (local time), what `nats sub --stream` prints after `Received JetStream message:`.
    public static func subscribeSummary(_ metadata: JetStreamMessageMetadata, subject: String) -> String {
        let seconds = Double(metadata.timestampNanoseconds) / 1e9
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        localtime_r(&time, &parts)
        let stamp = String(format: "%04d-%02d-%02d %02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                           Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return "stream: \(metadata.stream) seq: \(MessageFormat.grouped(metadata.streamSequence)) / pending: \(MessageFormat.grouped(metadata.pending)) / subject: \(subject) / time: \(stamp)"
    }

    /// Bytes as `512 B`, `1.5 KiB`, `3.0 MiB`.
    public static func bytes(_ value: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1024, unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        return unit == 0 ? "\(value) B" : String(format: "%.1f %@", amount, units[unit])
    }

    /// Right-aligned `label: value` lines.
    static func table(_ rows: [(String, String)]) -> [String] {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { String(repeating: " ", count: width - $0.0.count) + "\($0.0): \($0.1)" }
    }

    static func duration(_ value: Duration?) -> String {
        guard let value, value > .zero else { return "unlimited" }
        return DurationSyntax.format(value)
    }

    /// `nats-stream info` output.
    public static func streamInfo(_ info: StreamInfo) -> [String] {
        let config = info.config
        var lines = ["Information for Stream \(config.name)" + (info.created.map { " created \($0)" } ?? ""), "", "Configuration:", ""]
        var rows: [(String, String)] = []
        if let description = config.description { rows.append(("Description", description)) }
        rows.append(("Subjects", (config.subjects ?? [config.name]).joined(separator: ", ")))
        rows.append(("Storage", (config.storage ?? .file).rawValue))
        rows.append(("Retention", (config.retention ?? .limits).rawValue))
        rows.append(("Replicas", String(config.replicas ?? 1)))
        rows.append(("Discard Policy", (config.discard ?? .old).rawValue))
        rows.append(("Duplicate Window", duration(config.duplicateWindow)))
        rows.append(("Allows Direct", (config.allowDirect ?? false) ? "true" : "false"))
        rows.append(("Maximum Messages", limit(config.maxMsgs)))
        rows.append(("Maximum Per Subject", limit(config.maxMsgsPerSubject)))
        rows.append(("Maximum Bytes", limit(config.maxBytes)))
        rows.append(("Maximum Age", duration(config.maxAge)))
        rows.append(("Maximum Message Size", limit(config.maxMsgSize.map(Int64.init))))
        rows.append(("Maximum Consumers", limit(config.maxConsumers.map(Int64.init))))
        lines += table(rows)
        lines += ["", "State:", ""]
        let state = info.state
        lines += table([
            ("Messages", String(state.messages)),
            ("Bytes", bytes(state.bytes)),
            ("First Sequence", String(state.firstSeq) + (state.firstTime.map { " @ \($0)" } ?? "")),
            ("Last Sequence", String(state.lastSeq) + (state.lastTime.map { " @ \($0)" } ?? "")),
            ("Deleted Messages", String(state.numDeleted ?? 0)),
            ("Number of Subjects", String(state.numSubjects ?? 0)),
            ("Active Consumers", String(state.consumerCount ?? 0)),
        ])
        return lines
    }

    /// `nats-stream ls` output: one row per stream.
    public static func streamList(_ infos: [StreamInfo]) -> [String] {
        guard !infos.isEmpty else { return ["No Streams defined"] }
        let rows = infos.sorted { $0.config.name < $1.config.name }.map { info in
            [info.config.name, String(info.state.messages), bytes(info.state.bytes), (info.config.subjects ?? [info.config.name]).joined(separator: ", ")]
        }
        return columns(["Name", "Messages", "Size", "Subjects"], rows)
    }

    /// `nats-consumer ls` output: one row per consumer.
    public static func consumerList(_ infos: [ConsumerInfo]) -> [String] {
        guard !infos.isEmpty else { return ["No Consumers defined"] }
        let rows = infos.sorted { $0.name < $1.name }.map { info in
            [info.name, String(info.numPending), String(info.numAckPending), String(info.numRedelivered),
             (info.config?.filterSubjects ?? info.config?.filterSubject.map { [$0] } ?? []).joined(separator: ", ")]
        }
        return columns(["Name", "Unprocessed", "Ack Pending", "Redelivered", "Filter"], rows)
    }

    static func columns(_ header: [String], _ rows: [[String]]) -> [String] {
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        func line(_ cells: [String]) -> String {
            var text = cells.enumerated().map { index, cell in cell + String(repeating: " ", count: widths[index] - cell.count) }.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return text
        }
        return [line(header)] + rows.map(line)
    }

    /// `nats-consumer info` output.
    public static func consumerInfo(_ info: ConsumerInfo) -> [String] {
        var lines = ["Information for Consumer \(info.stream) > \(info.name)" + (info.created.map { " created \($0)" } ?? ""), "", "Configuration:", ""]
        var rows: [(String, String)] = []
        if let config = info.config {
            if let durable = config.durableName { rows.append(("Durable Name", durable)) }
            let filters = config.filterSubjects ?? config.filterSubject.map { [$0] } ?? []
            if !filters.isEmpty { rows.append(("Filter Subjects", filters.joined(separator: ", "))) }
            rows.append(("Deliver Policy", (config.deliverPolicy ?? .all).rawValue + (config.optStartSeq.map { " from \($0)" } ?? "")))
            rows.append(("Ack Policy", (config.ackPolicy ?? .none).rawValue))
            rows.append(("Ack Wait", duration(config.ackWait)))
            rows.append(("Replay Policy", (config.replayPolicy ?? .instant).rawValue))
            rows.append(("Maximum Deliveries", limit(config.maxDeliver.map(Int64.init))))
            if let backoff = config.backoff, !backoff.isEmpty { rows.append(("Backoff", backoff.map(DurationSyntax.format).joined(separator: ", "))) }
            rows.append(("Max Ack Pending", limit(config.maxAckPending.map(Int64.init))))
            if let threshold = config.inactiveThreshold { rows.append(("Inactive Threshold", DurationSyntax.format(threshold))) }
        }
        lines += table(rows)
        lines += ["", "State:", ""]
        lines += table([
            ("Last Delivered Message", "Consumer sequence: \(info.delivered.consumerSequence) Stream sequence: \(info.delivered.streamSequence)"),
            ("Acknowledgment Floor", "Consumer sequence: \(info.ackFloor.consumerSequence) Stream sequence: \(info.ackFloor.streamSequence)"),
            ("Outstanding Acks", String(info.numAckPending)),
            ("Redelivered Messages", String(info.numRedelivered)),
            ("Unprocessed Messages", String(info.numPending)),
            ("Waiting Pulls", String(info.numWaiting)),
        ])
        return lines
    }

    /// A stored message as `nats stream get` prints it: a header line, headers, an empty line, the payload.
    public static func storedMessage(_ message: JetStreamStoredMessage, stream: String) -> [UInt8] {
        var text = "Item: \(stream)#\(message.sequence) received \(message.time) on Subject \(message.subject)\n\n"
        let headers = (message.headers?.entries ?? []).filter { !directHeaders.contains($0.name) }
        if !headers.isEmpty {
            text += "Headers:\n" + headers.map { "  \($0.name): \($0.value)\n" }.joined() + "\n"
        }
        return Array(text.utf8) + message.payload + [UInt8(ascii: "\n")]
    }

    static let directHeaders: Set<String> = [JetStreamHeader.stream, JetStreamHeader.subject, JetStreamHeader.sequence, JetStreamHeader.timeStamp, JetStreamHeader.lastSequence]

    /// A consumed message as `nats consumer next` prints it.
    public static func consumedMessage(_ message: JetStreamMessage) -> [UInt8] {
        var text = "[\(message.metadata.map { "\($0.stream) #\($0.streamSequence), delivery \($0.deliveredCount)" } ?? "-")] subj: \(message.subject) / bytes: \(message.payload.count)\n"
        let headers = message.headers?.entries ?? []
        if !headers.isEmpty {
            text += headers.map { "  \($0.name): \($0.value)\n" }.joined()
        }
        text += "\n"
        return Array(text.utf8) + message.payload + [UInt8(ascii: "\n"), UInt8(ascii: "\n")]
    }

    /// RFC 3339 UTC time with nanoseconds from nanoseconds since 1970, like the server writes it.
    public static func time(nanoseconds: Int64) -> String {
        let seconds = nanoseconds >= 0 ? nanoseconds / 1_000_000_000 : (nanoseconds - 999_999_999) / 1_000_000_000
        let fraction = nanoseconds - seconds * 1_000_000_000
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        var text = String(format: "%04d", parts.year ?? 0) + "-\(two(parts.month))-\(two(parts.day))T\(two(parts.hour)):\(two(parts.minute)):\(two(parts.second))"
        if fraction > 0 {
            var digits = String(format: "%09lld", fraction)
            while digits.last == "0" { digits.removeLast() }
            text += "." + digits
        }
        return text + "Z"
    }

    /// JSON of an API value, pretty-printed with sorted keys.
    public static func json<Value: Encodable>(_ value: Value) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return ((try? encoder.encode(value)).map(Array.init) ?? Array("{}".utf8)) + [UInt8(ascii: "\n")]
    }
}
