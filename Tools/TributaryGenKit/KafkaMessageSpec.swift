/// One `kafka/messages/NNN-Name.json` file (family `kafka.message`), validated: an API's request
/// and response, with the versions Tributary supports.
public struct KafkaMessageSpec: Sendable {
    /// The family name this spec is read for.
    public static let family = "kafka.message"

    /// The primitive wire types.
    public enum Primitive: String, Sendable, CaseIterable {
        case bool, int8, int16, uint16, int32, uint32, int64, float64, string, uuid, bytes, records

        /// Whether a field of this type can have `nullableVersions`.
        public var canBeNull: Bool { self == .string || self == .bytes || self == .records }
    }

    /// The type of a field.
    public indirect enum FieldType: Sendable {
        case primitive(Primitive)
        case array(FieldType)
        case structure(Struct)

        /// Whether the type is an array.
        public var isArray: Bool {
            if case .array = self { return true }
            return false
        }
    }

    /// A default value given in the spec (`"default"` key).
    public enum DefaultValue: Sendable, Equatable {
        case integer(Int)
        case bool(Bool)
        case string(String)
        case double(Double)
        case null
    }

    /// A field of a request, response or nested struct.
    public struct Field: Sendable {
        /// Kafka's field name (`GroupInstanceId`).
        public let name: String
        /// The Swift property name (`groupInstanceID`).
        public let swiftName: String
        /// The field's type.
        public let type: FieldType
        /// The spec's type text (`[]ApiVersion`, `int32`).
        public let typeText: String
        /// The versions in which the field exists.
        public let versions: KafkaSpecVersionRange
        /// The versions in which the field may be null; nil when never.
        public let nullableVersions: KafkaSpecVersionRange?
        /// The tag, for tagged fields.
        public let tag: Int?
        /// The versions in which the field is sent in the tagged section.
        public let taggedVersions: KafkaSpecVersionRange?
        /// The explicit default, if any.
        public let defaultValue: DefaultValue?
        /// Whether a non-default value may be dropped silently at versions without the field.
        public let ignorable: Bool
        /// Documentation.
        public let doc: String
    }

    /// A struct: the request, the response, or a nested struct type.
    public struct Struct: Sendable {
        /// Kafka's name (`ApiVersionsRequest`, `ApiVersion`).
        public let name: String
        /// The Swift type name (`ApiVersionsRequest`, `APIVersion`).
        public let swiftName: String
        /// Documentation.
        public let doc: String
        /// The fields in wire order.
        public let fields: [Field]
        /// The versions in which the struct appears.
        public let versions: KafkaSpecVersionRange
    }

    /// The API key (`18`).
    public let apiKey: Int
    /// The API name (`ApiVersions`).
    public let name: String
    /// Documentation of the API.
    public let doc: String
    /// The upstream definition files this spec was derived from.
    public let upstreamFiles: [String]
    /// All versions upstream defines.
    public let upstreamVersions: KafkaSpecVersionRange
    /// The versions Tributary supports, a closed subrange of ``upstreamVersions``.
    public let versions: KafkaSpecVersionRange
    /// Why ``versions`` was chosen.
    public let versionsRationale: String
    /// The versions using compact encodings and tagged fields; nil when none.
    public let flexibleVersions: KafkaSpecVersionRange?
    /// Versions upstream marks as deprecated; nil when none.
    public let deprecatedVersions: KafkaSpecVersionRange?
    /// Whether the response header becomes version 1 in flexible versions. False for
    /// ApiVersions, whose response header is always version 0 (KIP-511).
    public let flexibleResponseHeader: Bool
    /// The request.
    public let request: Struct
    /// The response.
    public let response: Struct

    /// Swift names generated types already use, which fields must not take.
    public static let reservedPropertyNames: Set<String> = ["unknownTaggedFields"]
    /// Swift names nested struct types must not take.
    public static let reservedTypeNames: Set<String> = [
        "Response", "Request", "String", "Int8", "Int16", "Int32", "Int64", "UInt16", "UInt32", "Bool", "Double",
        "WireUUID", "WireTaggedField", "ByteReader", "ByteWriter", "KafkaAPIKey",
    ]

    /// Reads and validates `document`.
    ///
    /// - Throws: ``SpecError`` naming the file and key of the first problem.
    public init(document: SpecDocument) throws(SpecError) {
        let body = try document.body(allowing: [
            "apiKey", "name", "doc", "upstreamFiles", "upstreamVersions", "versions", "versionsRationale",
            "flexibleVersions", "deprecatedVersions", "flexibleResponseHeader", "request", "response",
        ])
        let apiKeyNode = try body.required("apiKey")
        let apiKey = try apiKeyNode.int()
        guard (0...Int(Int16.max)).contains(apiKey) else { throw apiKeyNode.error("API key \(apiKey) is outside 0...32767") }

        let nameNode = try body.required("name")
        let name = try nameNode.string()
        guard Self.isUpperCamelCase(name) else {
            throw nameNode.error("\"\(name)\" is not an API name (UpperCamelCase letters and digits, like \"ApiVersions\")")
        }
        let fileName = document.path.split(separator: "/").last.map(String.init) ?? document.path
        let expectedFileName = Self.fileName(apiKey: apiKey, name: name)
        guard fileName == expectedFileName else {
            throw nameNode.error("the file for API key \(apiKey) \(name) must be named \(expectedFileName), not \(fileName)")
        }

        let upstreamFilesNode = try body.required("upstreamFiles")
        let upstreamFiles = try upstreamFilesNode.stringArray()
        guard upstreamFiles == ["\(name)Request.json", "\(name)Response.json"] else {
            throw upstreamFilesNode.error("expected [\"\(name)Request.json\", \"\(name)Response.json\"], the upstream files of this API")
        }

        let upstreamNode = try body.required("upstreamVersions")
        guard let upstreamVersions = try KafkaSpecVersionRange.parse(try upstreamNode.string(), at: upstreamNode),
              upstreamVersions.highest != nil else {
            throw upstreamNode.error("upstreamVersions must be a closed range like \"0-4\"")
        }
        let versionsNode = try body.required("versions")
        guard let versions = try KafkaSpecVersionRange.parse(try versionsNode.string(), at: versionsNode),
              versions.highest != nil else {
            throw versionsNode.error("versions must be a closed range like \"0-4\"")
        }
        guard versions.isSubset(of: upstreamVersions) else {
            throw versionsNode.error("supported versions \(versions) must lie within upstreamVersions \(upstreamVersions)")
        }

        let flexibleNode = try body.required("flexibleVersions")
        let flexibleVersions = try KafkaSpecVersionRange.parse(try flexibleNode.string(), at: flexibleNode)
        if let flexibleVersions {
            guard flexibleVersions.highest == nil else {
                throw flexibleNode.error("flexibleVersions must be open-ended (\"\(flexibleVersions.lowest)+\") or \"none\": once flexible, every later version is")
            }
            guard flexibleVersions.lowest <= upstreamVersions.upperBound else {
                throw flexibleNode.error("flexibleVersions \(flexibleVersions) starts after the last upstream version \(upstreamVersions.upperBound)")
            }
        }
        var deprecatedVersions: KafkaSpecVersionRange?
        if let deprecatedNode = body.optional("deprecatedVersions") {
            deprecatedVersions = try KafkaSpecVersionRange.parse(try deprecatedNode.string(), at: deprecatedNode)
            if let deprecatedVersions, !deprecatedVersions.isSubset(of: upstreamVersions) {
                throw deprecatedNode.error("deprecatedVersions \(deprecatedVersions) must lie within upstreamVersions \(upstreamVersions)")
            }
        }

        self.apiKey = apiKey
        self.name = name
        self.doc = try body.required("doc").text()
        self.upstreamFiles = upstreamFiles
        self.upstreamVersions = upstreamVersions
        self.versions = versions
        self.versionsRationale = try body.required("versionsRationale").text()
        self.flexibleVersions = flexibleVersions
        self.deprecatedVersions = deprecatedVersions
        self.flexibleResponseHeader = try body.optional("flexibleResponseHeader")?.bool() ?? true

        var context = Context(supported: versions, flexible: flexibleVersions)
        request = try context.readMessage(try body.required("request"), name: "\(name)Request")
        context.structNames = UniqueNames()
        response = try context.readMessage(try body.required("response"), name: "\(name)Response")
    }

    /// `NNN-Name.json`: the API key zero-padded to three digits, a dash and the API name.
    public static func fileName(apiKey: Int, name: String) -> String {
        let digits = String(apiKey)
        return String(repeating: "0", count: max(0, 3 - digits.count)) + digits + "-" + name + ".json"
    }

    static func isUpperCamelCase(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("A"..."Z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    static func isFieldName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    /// Shared state while reading one side (request or response).
    private struct Context {
        let supported: KafkaSpecVersionRange
        let flexible: KafkaSpecVersionRange?
        var structNames = UniqueNames()

        init(supported: KafkaSpecVersionRange, flexible: KafkaSpecVersionRange?) {
            self.supported = supported
            self.flexible = flexible
        }

        mutating func readMessage(_ node: SpecNode, name: String) throws(SpecError) -> Struct {
            let object = try node.object(allowedKeys: ["doc", "fields"])
            let fields = try readFields(try object.required("fields"), parentVersions: KafkaSpecVersionRange(lowest: 0, highest: nil))
            return Struct(name: name, swiftName: name, doc: try object.required("doc").text(), fields: fields, versions: supported)
        }

        mutating func readFields(_ node: SpecNode, parentVersions: KafkaSpecVersionRange) throws(SpecError) -> [Field] {
            var fields: [Field] = []
            var kafkaNames = UniqueNames()
            var swiftNames = UniqueNames()
            var tags = UniqueNames()
            for fieldNode in try node.array() {
                let field = try readField(fieldNode, parentVersions: parentVersions)
                let object = try fieldNode.object(allowedKeys: Self.fieldKeys)
                let nameNode = try object.required("name")
                try kafkaNames.insert(field.name.lowercased(), at: nameNode, what: "field name (case-insensitive)")
                try swiftNames.insert(field.swiftName, at: object.optional("swiftName") ?? nameNode, what: "Swift property name")
                if let tag = field.tag, let tagNode = object.optional("tag") {
                    try tags.insert(String(tag), at: tagNode, what: "tag")
                }
                fields.append(field)
            }
            return fields
        }

        static let fieldKeys = [
            "name", "swiftName", "type", "versions", "nullableVersions", "tag", "taggedVersions", "default",
            "ignorable", "doc", "fields",
        ]

        mutating func readField(_ node: SpecNode, parentVersions: KafkaSpecVersionRange) throws(SpecError) -> Field {
            let object = try node.object(allowedKeys: Self.fieldKeys)
            let nameNode = try object.required("name")
            let name = try nameNode.string()
            guard KafkaMessageSpec.isFieldName(name) else {
                throw nameNode.error("\"\(name)\" is not a Kafka field name (ASCII letters and digits, starting with a letter)")
            }
            var swiftName = KafkaNaming.propertyName(name)
            if let swiftNameNode = object.optional("swiftName") {
                swiftName = try swiftNameNode.lowerCamelCaseIdentifier()
            } else if SwiftIdentifier.keywords.contains(swiftName) || !SwiftIdentifier.isLowerCamelCase(swiftName) {
                throw nameNode.error("\"\(name)\" becomes the Swift name \"\(swiftName)\", which is not usable; add a \"swiftName\"")
            }
            guard !KafkaMessageSpec.reservedPropertyNames.contains(swiftName) else {
                throw nameNode.error("\"\(swiftName)\" is reserved for generated members; add another \"swiftName\"")
            }

            let versionsNode = try object.required("versions")
            guard let versions = try KafkaSpecVersionRange.parse(try versionsNode.string(), at: versionsNode) else {
                throw versionsNode.error("a field must exist in some version; remove it instead of writing \"none\"")
            }
            guard versions.isSubset(of: parentVersions) else {
                throw versionsNode.error("versions \(versions) must lie within the enclosing struct's versions \(parentVersions)")
            }
            guard versions.intersection(supported) != nil else {
                throw versionsNode.error("versions \(versions) do not overlap the supported versions \(supported); drop the field from the spec")
            }

            let typeNode = try object.required("type")
            let typeText = try typeNode.string()
            let docText = try object.required("doc").text()
            let type: FieldType
            let elementText = typeText.hasPrefix("[]") ? String(typeText.dropFirst(2)) : typeText
            if let primitive = Primitive(rawValue: elementText) {
                if object.optional("fields") != nil {
                    throw typeNode.error("a field of type \(typeText) must not have \"fields\"")
                }
                if typeText.hasPrefix("[]") && (primitive == .records) {
                    throw typeNode.error("arrays of records are not a Kafka type")
                }
                type = typeText.hasPrefix("[]") ? .array(.primitive(primitive)) : .primitive(primitive)
            } else {
                guard KafkaMessageSpec.isUpperCamelCase(elementText) else {
                    throw typeNode.error("unknown type \"\(typeText)\"; use a primitive (\(Primitive.allCases.map(\.rawValue).joined(separator: ", "))), []T, or an UpperCamelCase struct name with \"fields\"")
                }
                guard let fieldsNode = object.optional("fields") else {
                    throw typeNode.error("struct type \(elementText) needs \"fields\"")
                }
                let swiftTypeName = KafkaNaming.typeName(elementText)
                guard !KafkaMessageSpec.reservedTypeNames.contains(swiftTypeName) else {
                    throw typeNode.error("struct name \(elementText) clashes with a type generated code uses; rename it")
                }
                try structNames.insert(swiftTypeName, at: typeNode, what: "struct name")
                let nested = try readFields(fieldsNode, parentVersions: versions)
                guard !nested.isEmpty else { throw fieldsNode.error("a struct needs at least one field") }
                let structure = Struct(name: elementText, swiftName: swiftTypeName, doc: docText, fields: nested, versions: versions)
                type = typeText.hasPrefix("[]") ? .array(.structure(structure)) : .structure(structure)
            }

            var nullableVersions: KafkaSpecVersionRange?
            if let nullableNode = object.optional("nullableVersions") {
                nullableVersions = try KafkaSpecVersionRange.parse(try nullableNode.string(), at: nullableNode)
                if let nullableVersions {
                    guard nullableVersions.isSubset(of: versions) else {
                        throw nullableNode.error("nullableVersions \(nullableVersions) must lie within the field's versions \(versions)")
                    }
                    let nullableType: Bool
                    switch type {
                    case .primitive(let primitive): nullableType = primitive.canBeNull
                    case .array: nullableType = true
                    case .structure: nullableType = false
                    }
                    guard nullableType else { throw nullableNode.error("a field of type \(typeText) cannot be null") }
                }
            }

            var tag: Int?
            var taggedVersions: KafkaSpecVersionRange?
            if let tagNode = object.optional("tag") {
                let value = try tagNode.int()
                guard (0...Int(UInt32.max)).contains(value) else { throw tagNode.error("tag \(value) is outside 0...\(UInt32.max)") }
                let taggedNode = try object.required("taggedVersions")
                guard let tagged = try KafkaSpecVersionRange.parse(try taggedNode.string(), at: taggedNode) else {
                    throw taggedNode.error("a tagged field needs taggedVersions")
                }
                guard let flexible, tagged.isSubset(of: flexible) else {
                    throw taggedNode.error("taggedVersions \(tagged) must lie within the flexible versions \(flexible.map { "\($0)" } ?? "none")")
                }
                guard tagged.highest == nil else { throw taggedNode.error("taggedVersions must be open-ended (\"\(tagged.lowest)+\")") }
                guard tagged.intersection(supported) == versions.intersection(supported) else {
                    throw taggedNode.error("taggedVersions \(tagged) must cover exactly the supported versions the field exists in (\(versions)); fields that are tagged in some versions and positional in others are not supported")
                }
                tag = value
                taggedVersions = tagged
            } else if let taggedNode = object.optional("taggedVersions") {
                throw taggedNode.error("taggedVersions needs a \"tag\"")
            }

            var defaultValue: DefaultValue?
            if let defaultNode = object.optional("default") {
                defaultValue = try Self.readDefault(defaultNode, type: type, typeText: typeText, nullable: nullableVersions != nil)
            }

            var ignorable = false
            if let ignorableNode = object.optional("ignorable") {
                ignorable = try ignorableNode.bool()
            }

            return Field(
                name: name, swiftName: swiftName, type: type, typeText: typeText, versions: versions,
                nullableVersions: nullableVersions, tag: tag, taggedVersions: taggedVersions,
                defaultValue: defaultValue, ignorable: ignorable, doc: docText
            )
        }

        static func readDefault(_ node: SpecNode, type: FieldType, typeText: String, nullable: Bool) throws(SpecError) -> DefaultValue {
            if case .null = node.json.value {
                guard nullable else { throw node.error("default null needs nullableVersions") }
                return .null
            }
            guard case .primitive(let primitive) = type else {
                throw node.error("only null can be the default of a \(typeText) field")
            }
            let ranges: [Primitive: ClosedRange<Int>] = [
                .int8: Int(Int8.min)...Int(Int8.max), .int16: Int(Int16.min)...Int(Int16.max),
                .uint16: 0...Int(UInt16.max), .int32: Int(Int32.min)...Int(Int32.max),
                .uint32: 0...Int(UInt32.max), .int64: Int(Int64.min)...Int(Int64.max),
            ]
            if let range = ranges[primitive] {
                let value = try node.int()
                guard range.contains(value) else { throw node.error("default \(value) does not fit \(typeText)") }
                return .integer(value)
            }
            switch primitive {
            case .bool:
                return .bool(try node.bool())
            case .string:
                return .string(try node.string())
            case .float64:
                switch node.json.value {
                case .integer(let value): return .double(Double(value))
                case .double(let value): return .double(value)
                default: throw node.error("expected a number")
                }
            default:
                throw node.error("a \(typeText) field cannot have a default other than null")
            }
        }
    }
}
