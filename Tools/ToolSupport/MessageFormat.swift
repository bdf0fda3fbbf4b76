import FoundationEssentials
import TributaryNATSProtocol

/// Text the tools print, in the nats CLI's formats. Pure: returns strings and bytes, writes nothing.
public enum MessageFormat {
    /// How `nats-sub` and `nats-reply` show each message.
    public struct Style: Sendable, Equatable {
        /// Payload only, one message per line (`--raw`).
        public var raw: Bool
        /// Headers only, no payload (`--headers-only`).
        public var headersOnly: Bool
        /// Add ` with reply "…"` to the `[#N] Received on` line.
        public var showReply: Bool
        /// Only the `[#N] Received on` line (`--subjects-only`).
        public var subjectsOnly: Bool

        /// Creates a style; the default is the full nats CLI layout with the reply subject.
        public init(raw: Bool = false, headersOnly: Bool = false, showReply: Bool = true, subjectsOnly: Bool = false) {
            self.raw = raw
            self.headersOnly = headersOnly
            self.showReply = showReply
            self.subjectsOnly = subjectsOnly
        }
    }

    /// A string quoted like Go's `%q`: `"orders.new"`, with `"`, `\` and control characters escaped.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count < 2 ? "0" : "") + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `[#3] Received on "orders.new"`, plus ` with reply "_INBOX.x"` when `replyTo` is given.
    public static func receivedLine(number: Int, subject: String, replyTo: String?) -> String {
        var line = "[#\(number)] Received on \(quoted(subject))"
        if let replyTo, !replyTo.isEmpty { line += " with reply \(quoted(replyTo))" }
        return line
    }

    /// `Key: Value` lines in wire order; a status line becomes `Status: 503` and
    /// `Description: No Responders`, as nats.go presents it.
    public static func headerLines(_ headers: NATSHeaders?) -> [String] {
        guard let headers else { return [] }
        var lines: [String] = []
        if let status = headers.status {
            lines.append("Status: \(status)")
            if let description = headers.statusDescription, !description.isEmpty {
                lines.append("Description: \(description)")
            }
        }
        for entry in headers {
            lines.append("\(entry.name): \(entry.value)")
        }
        return lines
    }

    /// Header lines, an empty line if there were any, then the payload and a newline
    /// (`nats-req` output). With `headersOnly`, the payload is left out.
    public static func body(_ message: NATSMessage, headersOnly: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        let lines = headerLines(message.headers)
        for line in lines {
            out.append(contentsOf: line.utf8)
            out.append(newline)
        }
        if headersOnly { return out }
        if !lines.isEmpty { out.append(newline) }
        out.append(contentsOf: message.payload)
        out.append(newline)
        return out
    }

    /// One received message as `nats-sub` prints it.
    ///
    /// Full: `[#N] Received on "subject"[ with reply "r"]`, header lines, an empty line if there
    /// were headers, the payload, an empty line. `headersOnly` drops the payload (one empty line
    /// ends the block). `raw`: the payload and a newline (with `headersOnly`: the header lines and
    /// an empty line). With `jetStreamSummary` the first line is
    /// `[#N] Received JetStream message: SUMMARY`, as `nats sub --stream` prints it.
    ///
    /// `subjectsOnly` keeps only the first line. With `matchedReply` (`--match-replies`) the reply
    /// follows as `[#N] Matched reply on "inbox"`, its headers and payload (raw: its payload line).
    public static func message(_ message: NATSMessage, number: Int, style: Style, jetStreamSummary: String? = nil,
                               matchedReply: NATSMessage? = nil) -> [UInt8] {
        var out: [UInt8] = []
        if style.raw {
            if style.headersOnly {
                out = body(message, headersOnly: true)
                out.append(newline)
            } else {
                out.append(contentsOf: message.payload)
                out.append(newline)
            }
            if let matchedReply {
                out.append(contentsOf: matchedReply.payload)
                out.append(newline)
            }
            return out
        }
        if let jetStreamSummary {
            out.append(contentsOf: "[#\(number)] Received JetStream message: \(jetStreamSummary)".utf8)
        } else {
            out.append(contentsOf: receivedLine(number: number, subject: message.subject,
                                                replyTo: style.showReply ? message.replyTo : nil).utf8)
        }
        out.append(newline)
        if !style.subjectsOnly {
            out.append(contentsOf: body(message, headersOnly: style.headersOnly))
            out.append(newline)
        }
        if let matchedReply {
            out.append(contentsOf: "[#\(number)] Matched reply on \(quoted(matchedReply.subject))".utf8)
            out.append(newline)
            out.append(contentsOf: body(matchedReply, headersOnly: style.headersOnly))
            out.append(newline)
        }
        return out
    }

    /// One message as `nats sub --dump` writes it: Go's JSON encoding of a nats.go `Msg`,
    /// `{"Subject":"s","Reply":"r","Header":{"K":["v"]},"Data":"<base64>","Sub":null}`, header
    /// names sorted, `Header` null without headers, `Reply` empty without a reply subject.
    public static func dumpJSON(_ message: NATSMessage) -> [UInt8] {
        var out = "{\"Subject\":" + jsonString(message.subject)
        out += ",\"Reply\":" + jsonString(message.replyTo ?? "")
        out += ",\"Header\":"
        var grouped: [String: [String]] = [:]
        var order: [String] = []
        for entry in message.headers ?? NATSHeaders() {
            if grouped[entry.name] == nil { order.append(entry.name) }
            grouped[entry.name, default: []].append(entry.value)
        }
        if grouped.isEmpty {
            out += "null"
        } else {
            out += "{" + order.sorted().map { name in
                jsonString(name) + ":[" + (grouped[name] ?? []).map(jsonString).joined(separator: ",") + "]"
            }.joined(separator: ",") + "}"
        }
        out += ",\"Data\":\"" + Data(message.payload).base64EncodedString() + "\",\"Sub\":null}"
        return Array(out.utf8)
    }

    /// A JSON string as Go's `encoding/json` writes it (`<`, `>`, `&`, U+2028 and U+2029 escaped).
    public static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += unicodeEscape(scalar.value)
            default:
                if scalar.value < 0x20 { out += unicodeEscape(scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }

    private static func unicodeEscape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// `Published 5 bytes to "orders.new"`.
    public static func published(bytes: Int, subject: String) -> String {
        "Published \(bytes) bytes to \(quoted(subject))"
    }

    /// `Published 10 messages (50 bytes) to "orders.new"`, the summary for `--count` > 1.
    public static func publishedSummary(messages: Int, bytes: Int, subject: String) -> String {
        "Published \(messages) messages (\(bytes) bytes) to \(quoted(subject))"
    }

    /// A count with thousands separators, as the nats CLI prints them: `1,234,567`.
    public static func grouped(_ value: UInt64) -> String {
        let digits = Array(String(value))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return out
    }

    /// `Stored in Stream: ORDERS Sequence: 12`, plus ` Domain: "hub"` and ` Duplicate: true`
    /// when they apply: a JetStream acknowledgement, as `nats pub --jetstream` prints it.
    public static func stored(stream: String, sequence: UInt64, domain: String?, duplicate: Bool) -> String {
        var line = "Stored in Stream: \(stream) Sequence: \(grouped(sequence))"
        if let domain, !domain.isEmpty { line += " Domain: \(quoted(domain))" }
        if duplicate { line += " Duplicate: true" }
        return line
    }

    /// What `nats sub --stream` logs when a replay starts: `Subscribing to subject orders.> from
    /// first received message`, `… starting at sequence 5`, `… since 1h0m0s`, `… for new messages`,
    /// `… from last received message`, `… for last message per subject`; the subject is
    /// `all subjects of stream S` without SUBJECT.
    public static func replaying(subject: String?, stream: String, start: SubscribeCommand.ReplayStart) -> String {
        let head = "Subscribing to " + (subject.map { "subject \($0)" } ?? "all subjects of stream \(stream)")
        switch start {
        case .all: return head + " from first received message"
        case .new: return head + " for new messages"
        case .last: return head + " from last received message"
        case .lastPerSubject: return head + " for last message per subject"
        case .sequence(let sequence): return head + " starting at sequence \(sequence)"
        case .since(let duration): return head + " since " + DurationSyntax.format(duration)
        }
    }

    /// `Subscribing on a, b` plus ` in queue group "q"` when a queue is used.
    public static func subscribing(to subjects: [String], queue: String?) -> String {
        var line = "Subscribing on " + subjects.joined(separator: ", ")
        if let queue { line += " in queue group \(quoted(queue))" }
        return line
    }

    private static let newline = UInt8(ascii: "\n")
}
