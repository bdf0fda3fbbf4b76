import Testing
import TributaryKafkaProtocol
import TributaryTestSupport
import TributaryWire

/// Every generated message type, requests and responses.
let allMessageTypes: [any KafkaMessage.Type] = [
    ProduceRequest.self, ProduceResponse.self,
    FetchRequest.self, FetchResponse.self,
    ListOffsetsRequest.self, ListOffsetsResponse.self,
    MetadataRequest.self, MetadataResponse.self,
    OffsetCommitRequest.self, OffsetCommitResponse.self,
    OffsetFetchRequest.self, OffsetFetchResponse.self,
    FindCoordinatorRequest.self, FindCoordinatorResponse.self,
    JoinGroupRequest.self, JoinGroupResponse.self,
    HeartbeatRequest.self, HeartbeatResponse.self,
    LeaveGroupRequest.self, LeaveGroupResponse.self,
    SyncGroupRequest.self, SyncGroupResponse.self,
    DescribeGroupsRequest.self, DescribeGroupsResponse.self,
    ListGroupsRequest.self, ListGroupsResponse.self,
    ApiVersionsRequest.self, ApiVersionsResponse.self,
    CreateTopicsRequest.self, CreateTopicsResponse.self,
    DeleteTopicsRequest.self, DeleteTopicsResponse.self,
    DescribeConfigsRequest.self, DescribeConfigsResponse.self,
    CreatePartitionsRequest.self, CreatePartitionsResponse.self,
    DeleteGroupsRequest.self, DeleteGroupsResponse.self,
    SaslHandshakeRequest.self, SaslHandshakeResponse.self,
    SaslAuthenticateRequest.self, SaslAuthenticateResponse.self,
    InitProducerIdRequest.self, InitProducerIdResponse.self,
    AddPartitionsToTxnRequest.self, AddPartitionsToTxnResponse.self,
    AddOffsetsToTxnRequest.self, AddOffsetsToTxnResponse.self,
    EndTxnRequest.self, EndTxnResponse.self,
    TxnOffsetCommitRequest.self, TxnOffsetCommitResponse.self,
]

/// Parses hex such as `"00 03 61 62"`; spaces, newlines and `//` comments to the end of a line
/// are ignored, so golden vectors can be annotated field by field.
func hexBytes(_ text: String) -> [UInt8] {
    var digits = ""
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let code = line.range(of: "//").map { line[..<$0.lowerBound] } ?? line[...]
        digits += code.filter { $0.isHexDigit }
    }
    precondition(digits.count % 2 == 0, "odd number of hex digits in a test vector")
    var bytes: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
        let next = digits.index(index, offsetBy: 2)
        bytes.append(UInt8(digits[index..<next], radix: 16) ?? 0)
        index = next
    }
    return bytes
}

/// The body bytes of `message` at `version`.
func encoded<M: KafkaMessage>(_ message: M, version: Int16) throws -> [UInt8] {
    var writer = ByteWriter()
    try message.encode(into: &writer, version: version)
    return writer.bytes
}

/// Decodes a whole body, failing on trailing bytes.
func decoded<M: KafkaMessage>(_ type: M.Type, _ bytes: [UInt8], version: Int16) throws -> M {
    var reader = ByteReader(bytes)
    let message = try M(from: &reader, version: version)
    try reader.expectEnd("\(M.self)")
    return message
}

/// A decoded field value in a form that does not depend on the generated Swift types, so the
/// values a test wrote can be compared with what the generated decoder produced.
indirect enum FieldValue: Equatable, CustomStringConvertible {
    case integer(Int64)
    case bool(Bool)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case uuid(WireUUID)
    case null
    case array([FieldValue])
    /// A struct: its fields by Swift name, plus the tags of unknown tagged fields under `"?tags"`.
    case structure([String: FieldValue])

    var description: String {
        switch self {
        case .integer(let value): "\(value)"
        case .bool(let value): "\(value)"
        case .double(let value): "\(value)"
        case .string(let value): "\"\(value)\""
        case .bytes(let value): "bytes\(value)"
        case .uuid(let value): "\(value)"
        case .null: "null"
        case .array(let values): "\(values)"
        case .structure(let fields): "{" + fields.keys.sorted().map { "\($0): \(fields[$0] ?? .null)" }.joined(separator: ", ") + "}"
        }
    }
}

/// Writes random, canonical, valid message bodies from a `KafkaMessageSchema`, independently of
/// the generated encoders, and records the values written (defaults for fields the version does
/// not carry and for tagged fields not sent). Every field present at the version gets a random
/// value (or null where allowed); tagged fields are sent only when they differ from the default;
/// unknown tags are sprinkled in.
struct RandomMessageWriter {
    var random: SeededRandom
    let version: Int16
    let flexible: Bool
    private var depth = 0

    init(random: SeededRandom, version: Int16, flexible: Bool) {
        self.random = random
        self.version = version
        self.flexible = flexible
    }

    /// A random body and the values it holds.
    mutating func body(_ schema: KafkaMessageSchema) throws -> (bytes: [UInt8], value: FieldValue) {
        var writer = ByteWriter()
        let value = try writeStruct(schema.fields, into: &writer)
        return (writer.bytes, value)
    }

    private mutating func chance(_ oneIn: Int) -> Bool {
        Int.random(in: 0..<oneIn, using: &random) == 0
    }

    private mutating func randomString() -> String {
        let alphabet = Array("abcxyz-._0123456789")
        var text = String((0..<Int.random(in: 0...6, using: &random)).map { _ in alphabet.randomElement(using: &random) ?? "a" })
        if chance(8) { text += "é✓" }
        return text
    }

    private mutating func randomBytes() -> [UInt8] {
        (0..<Int.random(in: 0...9, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    mutating func writeStruct(_ fields: [KafkaFieldSchema], into writer: inout ByteWriter) throws -> FieldValue {
        depth += 1
        defer { depth -= 1 }
        var values: [String: FieldValue] = [:]
        for field in fields {
            if field.isPresent(in: version) && field.tag == nil {
                values[field.name] = try writeValue(field.type, nullable: field.isNullable(in: version), into: &writer)
            } else {
                values[field.name] = try defaultValue(field)
            }
        }
        guard flexible else { return .structure(values) }
        var tagged: [WireTaggedField] = []
        var nextFreeTag: UInt32 = 0
        for field in fields {
            guard let tag = field.tag else { continue }
            nextFreeTag = max(nextFreeTag, tag + 1)
            guard field.isPresent(in: version), chance(3) == false else { continue }
            var bytes = ByteWriter()
            let value = try writeValue(field.type, nullable: field.isNullable(in: version), into: &bytes)
            var defaultBytes = ByteWriter()
            try writeDefault(field, into: &defaultBytes)
            if bytes.bytes != defaultBytes.bytes {
                tagged.append(WireTaggedField(tag: tag, bytes: bytes.bytes))
                values[field.name] = value
            }
        }
        var unknownTags: [FieldValue] = []
        if chance(4) {
            let tag = nextFreeTag + UInt32.random(in: 0...200, using: &random)
            tagged.append(WireTaggedField(tag: tag, bytes: randomBytes()))
            unknownTags.append(.integer(Int64(tag)))
        }
        values["?tags"] = .array(unknownTags)
        try writer.writeTaggedFields(tagged)
        return .structure(values)
    }

    mutating func writeValue(_ type: KafkaFieldType, nullable: Bool, into writer: inout ByteWriter) throws -> FieldValue {
        if nullable, chance(5) {
            switch type {
            case .string: try writer.writeNullableString(nil, compact: flexible)
            case .bytes, .records: try writer.writeNullableBytes(nil, compact: flexible)
            case .array: try writer.writeArrayLength(nil, compact: flexible, nullable: true)
            default: preconditionFailure("\(type) cannot be null")
            }
            return .null
        }
        switch type {
        case .bool:
            let value = Bool.random(using: &random)
            writer.writeBool(value)
            return .bool(value)
        case .int8:
            let value = Int8.random(in: .min ... .max, using: &random)
            writer.writeInt8(value)
            return .integer(Int64(value))
        case .int16:
            let value = Int16.random(in: .min ... .max, using: &random)
            writer.writeInt16(value)
            return .integer(Int64(value))
        case .uint16:
            let value = UInt16.random(in: .min ... .max, using: &random)
            writer.writeUInt16(value)
            return .integer(Int64(value))
        case .int32:
            let value = Int32.random(in: .min ... .max, using: &random)
            writer.writeInt32(value)
            return .integer(Int64(value))
        case .uint32:
            let value = UInt32.random(in: .min ... .max, using: &random)
            writer.writeUInt32(value)
            return .integer(Int64(value))
        case .int64:
            let value = Int64.random(in: .min ... .max, using: &random)
            writer.writeInt64(value)
            return .integer(value)
        case .float64:
            let value = Double.random(in: -1e9...1e9, using: &random)
            writer.writeFloat64(value)
            return .double(value)
        case .string:
            let value = randomString()
            try writer.writeString(value, compact: flexible)
            return .string(value)
        case .uuid:
            let value = WireUUID(high: random.next(), low: random.next())
            writer.writeUUID(value)
            return .uuid(value)
        case .bytes, .records:
            let value = randomBytes()
            try writer.writeBytes(value, compact: flexible)
            return .bytes(value)
        case .array(let element):
            let count = Int.random(in: 0...(depth > 3 ? 1 : 3), using: &random)
            try writer.writeArrayLength(count, compact: flexible)
            var values: [FieldValue] = []
            for _ in 0..<count { values.append(try writeValue(element, nullable: false, into: &writer)) }
            return .array(values)
        case .structure(let structure):
            return try writeStruct(structure.fields, into: &writer)
        }
    }

    /// The bytes of the field's default value at this version.
    func writeDefault(_ field: KafkaFieldSchema, into writer: inout ByteWriter) throws {
        switch try defaultValue(field) {
        case .null:
            switch field.type {
            case .string: try writer.writeNullableString(nil, compact: flexible)
            case .bytes, .records: try writer.writeNullableBytes(nil, compact: flexible)
            default: try writer.writeArrayLength(nil, compact: flexible, nullable: true)
            }
        case .integer(let value):
            switch field.type {
            case .int8: writer.writeInt8(Int8(value))
            case .int16: writer.writeInt16(Int16(value))
            case .uint16: writer.writeUInt16(UInt16(value))
            case .int32: writer.writeInt32(Int32(value))
            case .uint32: writer.writeUInt32(UInt32(value))
            default: writer.writeInt64(value)
            }
        case .bool(let value): writer.writeBool(value)
        case .double(let value): writer.writeFloat64(value)
        case .string(let value): try writer.writeString(value, compact: flexible)
        case .bytes(let value): try writer.writeBytes(value, compact: flexible)
        case .uuid(let value): writer.writeUUID(value)
        case .array: try writer.writeArrayLength(0, compact: flexible)
        case .structure:
            guard case .structure(let structure) = field.type else { return }
            for nested in structure.fields where nested.isPresent(in: version) && nested.tag == nil {
                try writeDefault(nested, into: &writer)
            }
            if flexible { writer.writeEmptyTaggedFields() }
        }
    }

    /// The value a field holds when the input does not set it.
    func defaultValue(_ field: KafkaFieldSchema) throws -> FieldValue {
        switch field.defaultValue {
        case .integer(let value)?: return .integer(value)
        case .bool(let value)?: return .bool(value)
        case .string(let value)?: return .string(value)
        case .double(let value)?: return .double(value)
        case .null?: return .null
        case nil: break
        }
        switch field.type {
        case .bool: return .bool(false)
        case .int8, .int16, .uint16, .int32, .uint32, .int64: return .integer(0)
        case .float64: return .double(0)
        case .string: return .string("")
        case .uuid: return .uuid(.zero)
        case .bytes: return .bytes([])
        // Kafka's records fields default to null.
        case .records: return field.nullableVersions == nil ? .bytes([]) : .null
        case .array: return .array([])
        case .structure(let structure):
            var values: [String: FieldValue] = [:]
            for nested in structure.fields { values[nested.name] = try defaultValue(nested) }
            if flexible { values["?tags"] = .array([]) }
            return .structure(values)
        }
    }
}

/// The values a generated message holds, read through `Mirror` and the schema.
func fieldValues(of message: Any, fields: [KafkaFieldSchema], flexible: Bool) -> FieldValue {
    var children: [String: Any] = [:]
    for child in Mirror(reflecting: message).children {
        if let label = child.label, children[label] == nil { children[label] = child.value }
    }
    var values: [String: FieldValue] = [:]
    for field in fields {
        values[field.name] = children[field.name].map { fieldValue($0, type: field.type, flexible: flexible) } ?? .string("<missing property>")
    }
    if flexible {
        let unknown = (children["unknownTaggedFields"] as? [WireTaggedField]) ?? []
        values["?tags"] = .array(unknown.map { .integer(Int64($0.tag)) })
    }
    return .structure(values)
}

private func fieldValue(_ value: Any, type: KafkaFieldType, flexible: Bool) -> FieldValue {
    let mirror = Mirror(reflecting: value)
    if mirror.displayStyle == .optional {
        guard let wrapped = mirror.children.first?.value else { return .null }
        return fieldValue(wrapped, type: type, flexible: flexible)
    }
    switch type {
    case .bool: return (value as? Bool).map(FieldValue.bool) ?? .string("<not a Bool>")
    case .int8, .int16, .uint16, .int32, .uint32, .int64:
        guard let integer = value as? any BinaryInteger else { return .string("<not an integer>") }
        return .integer(Int64(integer))
    case .float64: return (value as? Double).map(FieldValue.double) ?? .string("<not a Double>")
    case .string: return (value as? String).map(FieldValue.string) ?? .string("<not a String>")
    case .uuid: return (value as? WireUUID).map(FieldValue.uuid) ?? .string("<not a WireUUID>")
    case .bytes, .records: return (value as? [UInt8]).map(FieldValue.bytes) ?? .string("<not bytes>")
    case .array(let element):
        return .array(mirror.children.map { fieldValue($0.value, type: element, flexible: flexible) })
    case .structure(let structure):
        return fieldValues(of: value, fields: structure.fields, flexible: flexible)
    }
}

/// Checks a hand-written golden body both ways: `message` encodes to exactly `hex` at `version`,
/// and `hex` decodes to `message`.
func expectGolden<M: KafkaMessage>(_ message: M, version: Int16, _ hex: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let golden = hexBytes(hex)
    let bytes = try encoded(message, version: version)
    #expect(bytes == golden, "\(M.self) v\(version) encodes differently:\n  got      \(hexString(bytes))\n  expected \(hexString(golden))", sourceLocation: sourceLocation)
    let decodedMessage = try decoded(M.self, golden, version: version)
    #expect(decodedMessage == message, "\(M.self) v\(version) decodes differently", sourceLocation: sourceLocation)
}

/// Lowercase hex with a space between bytes.
func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16)
        return byte < 16 ? "0" + digits : digits
    }.joined(separator: " ")
}

/// The four big-endian bytes of `value`.
func int32Bytes(_ value: Int) -> [UInt8] {
    let raw = UInt32(truncatingIfNeeded: value)
    return [UInt8(raw >> 24), UInt8(truncatingIfNeeded: raw >> 16), UInt8(truncatingIfNeeded: raw >> 8), UInt8(truncatingIfNeeded: raw)]
}

/// Values shared by the golden bodies produced with Tests/Fixtures/kafka-golden/make_golden.py;
/// they must stay equal to the constants of the same names there.
enum Golden {
    /// 6a1f3c2e-9b4d-4e8a-b7c1-0d2e3f405162
    static let topicID = WireUUID(high: 0x6A1F_3C2E_9B4D_4E8A, low: 0xB7C1_0D2E_3F40_5162)
    /// 0f4b8e21-7c3a-4d59-8e6f-a1b2c3d4e5f6
    static let otherTopicID = WireUUID(high: 0x0F4B_8E21_7C3A_4D59, low: 0x8E6F_A1B2_C3D4_E5F6)
    /// c0ffee00-1234-4abc-9def-00112233aabb
    static let directoryID = WireUUID(high: 0xC0FF_EE00_1234_4ABC, low: 0x9DEF_0011_2233_AABB)
    /// A consumer-protocol assignment (version 0, "orders" partitions 0 and 1, null user data),
    /// opaque to SyncGroup and DescribeGroups.
    static let assignment = hexBytes("0000 00000001 0006 6f7264657273 00000002 00000000 00000001 ffffffff")
    /// A consumer-protocol subscription (version 0, topic "orders", null user data).
    static let subscription = hexBytes("0000 00000001 0006 6f7264657273 ffffffff")
    /// Stand-in for a record batch: records are opaque at the message layer.
    static let records = hexBytes("00 00 00 00 00 00 04 d2 de ad be ef")
}
