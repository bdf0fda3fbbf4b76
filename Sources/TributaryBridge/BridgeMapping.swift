#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TributaryKafka
import TributaryNATS

/// A NATS subject template for records coming from Kafka: literal text with `{topic}`,
/// `{partition}`, `{key}` and `{header:Name}` placeholders, e.g. `orders.{key}` or
/// `events.{topic}.{partition}`.
public struct BridgeSubjectTemplate: Sendable, Equatable {
    enum Piece: Sendable, Equatable {
        case text(String)
        case topic, partition, key
        case header(String)
    }

    let pieces: [Piece]

    /// Parses `template`.
    /// - Throws: `.invalidConfiguration` for an unknown or unclosed placeholder, or an empty template.
    public init(_ template: String) throws(BridgeError) {
        guard !template.isEmpty else { throw BridgeError(.invalidConfiguration, route: nil, "the subject template is empty") }
        var pieces: [Piece] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { pieces.append(.text(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw BridgeError(.invalidConfiguration, route: nil, "'\(template)' has a '{' without '}'")
            }
            let name = rest[rest.index(after: open)..<close]
            switch name {
            case "topic": pieces.append(.topic)
            case "partition": pieces.append(.partition)
            case "key": pieces.append(.key)
            default:
                guard name.hasPrefix("header:"), name.count > 7 else {
                    throw BridgeError(.invalidConfiguration, route: nil, "'\(template)' has an unknown placeholder {\(name)}; use {topic}, {partition}, {key} or {header:Name}")
                }
                pieces.append(.header(String(name.dropFirst(7))))
            }
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        self.pieces = pieces
    }

    /// The subject for `record`.
    /// - Throws: `.unmappable` when a placeholder has no value (no key, a missing header) or the
    ///   result is not a valid NATS subject (a key with spaces or wildcards, an empty token).
    func render(_ record: KafkaConsumerRecord) throws(BridgeError) -> String {
        var subject = ""
        for piece in pieces {
            switch piece {
            case .text(let text): subject += text
            case .topic: subject += record.topic
            case .partition: subject += String(record.partition)
            case .key:
                guard let key = record.key, let text = String(validating: key, as: UTF8.self), !text.isEmpty else {
                    throw BridgeError(.unmappable, route: nil, "record \(record.topic)/\(record.partition)@\(record.offset) has no text key for {key}")
                }
                subject += text
            case .header(let name):
                guard let value = record.headers.last(where: { $0.key == name })?.value, let text = String(validating: value, as: UTF8.self), !text.isEmpty else {
                    throw BridgeError(.unmappable, route: nil, "record \(record.topic)/\(record.partition)@\(record.offset) has no text header '\(name)' for {header:\(name)}")
                }
                subject += text
            }
        }
        if let problem = Self.subjectProblem(subject) {
            throw BridgeError(.unmappable, route: nil, "record \(record.topic)/\(record.partition)@\(record.offset) maps to '\(subject)', which is not a NATS subject: \(problem)")
        }
        return subject
    }

    /// Why `subject` cannot be published to, or nil.
    static func subjectProblem(_ subject: String) -> String? {
        if subject.isEmpty { return "it is empty" }
        var tokenLength = 0
        for byte in subject.utf8 {
            switch byte {
            case UInt8(ascii: "."):
                if tokenLength == 0 { return "it has an empty token" }
                tokenLength = 0
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                return "it contains white space"
            case UInt8(ascii: "*"), UInt8(ascii: ">"):
                return "it contains a wildcard"
            default:
                tokenLength += 1
            }
        }
        return tokenLength == 0 ? "it has an empty token" : nil
    }
}

/// How messages change shape between NATS and Kafka. Headers are copied both ways, repeated
/// names included; a Kafka header value that is not single-line UTF-8 text crosses to NATS in
/// base64, its name listed in `Tributary-Base64-Headers`, and is decoded again on the way back.
enum BridgeMapping {
    /// Marks a message the bridge wrote, with the bridge's id: a route skips messages carrying its own id.
    static let bridgeHeader = "Tributary-Bridge"
    /// Names of headers whose values are base64 (they were not text on the Kafka side).
    static let base64Header = "Tributary-Base64-Headers"
    static let topicHeader = "Kafka-Topic"
    static let partitionHeader = "Kafka-Partition"
    static let offsetHeader = "Kafka-Offset"
    static let timestampHeader = "Kafka-Timestamp"
    static let keyHeader = "Kafka-Key"
    static let subjectHeader = "NATS-Subject"

    /// Whether `headers` show that the bridge `id` wrote this message.
    static func isOwn(_ headers: NATSHeaders?, bridge id: String) -> Bool {
        headers?.values(for: bridgeHeader).contains(id) ?? false
    }

    static func isOwn(_ headers: [KafkaRecord.Header], bridge id: String) -> Bool {
        headers.contains { $0.key == bridgeHeader && ($0.value?.elementsEqual(id.utf8) ?? false) }
    }

    /// A Kafka record's headers as NATS headers, plus where it came from and the bridge mark.
    static func natsHeaders(for record: KafkaConsumerRecord, bridge id: String) -> NATSHeaders {
        var headers = NATSHeaders()
        headers.reserveCapacity(record.headers.count + 7)
        var base64Names: [String] = []
        func add(_ name: String, _ value: [UInt8]?) {
            guard let value else {
                headers.append("", for: name)
                return
            }
            if let text = String(validating: value, as: UTF8.self), !text.utf8.contains(where: { $0 < 0x20 && $0 != 0x09 || $0 == 0x7F }) {
                headers.append(text, for: name)
            } else {
                headers.append(Data(value).base64EncodedString(), for: name)
                if !base64Names.contains(name) { base64Names.append(name) }
            }
        }
        for header in record.headers where header.key != bridgeHeader && header.key != base64Header {
            add(header.key, header.value)
        }
        headers.append(record.topic, for: topicHeader)
        headers.append(String(record.partition), for: partitionHeader)
        headers.append(String(record.offset), for: offsetHeader)
        headers.append(String(record.timestamp), for: timestampHeader)
        if let key = record.key { add(keyHeader, key) }
        if !base64Names.isEmpty { headers.append(base64Names.joined(separator: ","), for: base64Header) }
        headers.append(id, for: bridgeHeader)
        return headers
    }

    /// A NATS message's headers as Kafka headers (base64 values decoded back), plus its subject
    /// and the bridge mark (the bridge id's bytes); also the timestamp a bridged Kafka record
    /// carried, if any.
    static func kafkaHeaders(subject: String, headers natsHeaders: NATSHeaders?, bridge id: [UInt8]) -> (headers: [KafkaRecord.Header], timestamp: Int64?) {
        var headers: [KafkaRecord.Header] = []
        headers.reserveCapacity((natsHeaders?.entries.count ?? 0) + 2)
        var timestamp: Int64?
        let base64Names = natsHeaders?[base64Header].map { Set($0.split(separator: ",").map(String.init)) } ?? []
        if let natsHeaders {
            for (name, value) in natsHeaders.entries where name != bridgeHeader && name != base64Header {
                if name == timestampHeader, timestamp == nil { timestamp = Int64(value) }
                if base64Names.contains(name), let bytes = Data(base64Encoded: value) {
                    headers.append((name, Array(bytes)))
                } else {
                    headers.append((name, Array(value.utf8)))
                }
            }
        }
        headers.append((subjectHeader, Array(subject.utf8)))
        headers.append((bridgeHeader, id))
        return (headers, timestamp)
    }

    /// The bytes of the 1-based token `index` of `subject`, or nil when it has fewer tokens.
    static func subjectToken(_ index: Int, of subject: String) -> [UInt8]? {
        var subject = subject
        return subject.withUTF8 { bytes -> [UInt8]? in
            var token = 1
            var start = 0
            for position in 0..<bytes.count where bytes[position] == UInt8(ascii: ".") {
                if token == index { return Array(bytes[start..<position]) }
                token += 1
                start = position + 1
            }
            return token == index ? Array(bytes[start...]) : nil
        }
    }

    /// The Kafka key of a message from NATS.
    static func kafkaKey(_ key: BridgeRoute.Key, subject: String, headers: NATSHeaders?) throws(BridgeError) -> [UInt8]? {
        switch key {
        case .none:
            return nil
        case .subject:
            return Array(subject.utf8)
        case .subjectToken(let index):
            if let token = subjectToken(index, of: subject) { return token }
            let count = subject.utf8.count(where: { $0 == UInt8(ascii: ".") }) + 1
            throw BridgeError(.unmappable, route: nil, "subject '\(subject)' has \(count) tokens; the key is token \(index)")
        case .header(let name):
            guard let value = headers?[name] else {
                throw BridgeError(.unmappable, route: nil, "the message on '\(subject)' has no header '\(name)' for the key")
            }
            return Array(value.utf8)
        }
    }
}
