/// A description of a generated Kafka message: its fields, their types and the versions they
/// exist in. Generated from `ProtocolSpecs/kafka/messages`; tools use it to print messages and
/// tests use it to build random valid input.
public struct KafkaMessageSchema: Hashable, Sendable {
    /// The Swift type name (`ApiVersionsRequest`).
    public let name: String
    /// The API key.
    public let apiKey: Int16
    /// Whether this is the request (true) or the response (false).
    public let isRequest: Bool
    /// The versions the type supports.
    public let supportedVersions: ClosedRange<Int16>
    /// The versions with compact encodings and tagged fields, or nil when none.
    public let flexibleVersions: KafkaVersionRange?
    /// The top-level fields in wire order.
    public let fields: [KafkaFieldSchema]

    /// Creates a schema.
    public init(
        name: String,
        apiKey: Int16,
        isRequest: Bool,
        supportedVersions: ClosedRange<Int16>,
        flexibleVersions: KafkaVersionRange?,
        fields: [KafkaFieldSchema]
    ) {
        self.name = name
        self.apiKey = apiKey
        self.isRequest = isRequest
        self.supportedVersions = supportedVersions
        self.flexibleVersions = flexibleVersions
        self.fields = fields
    }

    /// Whether `version` uses compact encodings and tagged fields.
    public func isFlexible(version: Int16) -> Bool {
        flexibleVersions?.contains(version) ?? false
    }
}

/// A contiguous range of message versions, open-ended unless `highest` is given.
public struct KafkaVersionRange: Hashable, Sendable, CustomStringConvertible {
    /// The lowest version.
    public let lowest: Int16
    /// The highest version (`Int16.max` for open-ended ranges such as `3+`).
    public let highest: Int16

    /// Creates `lowest...highest`; without `highest`, the range is open-ended (`3+`).
    public init(_ lowest: Int16, _ highest: Int16 = .max) {
        self.lowest = lowest
        self.highest = highest
    }

    /// Whether `version` is in the range.
    public func contains(_ version: Int16) -> Bool {
        version >= lowest && version <= highest
    }

    /// The spec syntax: `3+`, `0-4` or `5`.
    public var description: String {
        if highest == .max { return "\(lowest)+" }
        return lowest == highest ? "\(lowest)" : "\(lowest)-\(highest)"
    }
}

/// The type of a field.
public indirect enum KafkaFieldType: Hashable, Sendable {
    /// One byte, 0 or 1.
    case bool
    /// A signed byte.
    case int8
    /// A big-endian signed 16-bit integer.
    case int16
    /// A big-endian unsigned 16-bit integer.
    case uint16
    /// A big-endian signed 32-bit integer.
    case int32
    /// A big-endian unsigned 32-bit integer.
    case uint32
    /// A big-endian signed 64-bit integer.
    case int64
    /// An IEEE 754 double, big-endian.
    case float64
    /// A UTF-8 string with an int16 (or compact) length.
    case string
    /// 16 bytes.
    case uuid
    /// A byte sequence with an int32 (or compact) length.
    case bytes
    /// Record batches, opaque bytes at this layer.
    case records
    /// An array of elements of the given type.
    case array(KafkaFieldType)
    /// A nested struct.
    case structure(KafkaStructSchema)
}

/// A nested struct type.
public struct KafkaStructSchema: Hashable, Sendable {
    /// The Swift type name (`APIVersion`).
    public let name: String
    /// The fields in wire order.
    public let fields: [KafkaFieldSchema]

    /// Creates a struct description.
    public init(name: String, fields: [KafkaFieldSchema]) {
        self.name = name
        self.fields = fields
    }
}

/// A default value stated in the spec; fields without one default to zero, false, empty or
/// (for records) null.
public enum KafkaDefaultValue: Hashable, Sendable {
    /// An integer default, for any integer type.
    case integer(Int64)
    /// A boolean default.
    case bool(Bool)
    /// A string default.
    case string(String)
    /// A float64 default.
    case double(Double)
    /// Null, for nullable fields.
    case null
}

/// One field of a message or nested struct.
public struct KafkaFieldSchema: Hashable, Sendable {
    /// The Swift property name (`groupInstanceID`).
    public let name: String
    /// Kafka's field name (`GroupInstanceId`).
    public let kafkaName: String
    /// The versions in which the field is on the wire.
    public let versions: KafkaVersionRange
    /// The versions in which it may be null, or nil when never.
    public let nullableVersions: KafkaVersionRange?
    /// The tag for tagged fields. A tagged field is sent in the tagged-field section in every
    /// supported version it exists in (the generator checks this).
    public let tag: UInt32?
    /// The default stated in the spec, if any.
    public let defaultValue: KafkaDefaultValue?
    /// Whether a non-default value is dropped silently at versions without the field (otherwise
    /// encoding throws).
    public let ignorable: Bool
    /// The field's type.
    public let type: KafkaFieldType

    /// Creates a field description.
    public init(
        name: String,
        kafkaName: String,
        versions: KafkaVersionRange,
        nullableVersions: KafkaVersionRange? = nil,
        tag: UInt32? = nil,
        defaultValue: KafkaDefaultValue? = nil,
        ignorable: Bool = false,
        type: KafkaFieldType
    ) {
        self.name = name
        self.kafkaName = kafkaName
        self.versions = versions
        self.nullableVersions = nullableVersions
        self.tag = tag
        self.defaultValue = defaultValue
        self.ignorable = ignorable
        self.type = type
    }

    /// Whether the field is on the wire at `version`.
    public func isPresent(in version: Int16) -> Bool { versions.contains(version) }

    /// Whether the field may be null at `version`.
    public func isNullable(in version: Int16) -> Bool { nullableVersions?.contains(version) ?? false }
}
