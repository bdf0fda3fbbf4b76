/// The contents of `ProtocolSpecs/nats/jetstream-api.json` (family `nats.jetstream`), validated.
///
/// The file lists the JetStream API subjects, the JSON shapes of requests and responses (as
/// structs of typed fields and string enums), the headers clients set or read, and the API error
/// codes clients act on.
public struct JetStreamAPISpec: Sendable, Equatable {
    /// The family name this spec is read for.
    public static let family = "nats.jetstream"

    /// A field's wire type.
    public indirect enum FieldType: Sendable, Equatable {
        /// JSON string.
        case string
        /// JSON boolean.
        case bool
        /// JSON integer in Go's `int` range.
        case int
        /// JSON integer in Go's `int64` range.
        case int64
        /// JSON integer in Go's `uint64` range.
        case uint64
        /// Integer nanoseconds (Go `time.Duration`); Swift `Duration`.
        case duration
        /// RFC 3339 text (Go `time.Time`); kept as a Swift `String`.
        case time
        /// Base64 text of bytes (Go `[]byte`); Swift `[UInt8]`.
        case base64
        /// A type or enum declared in the same file.
        case named(String)
        /// JSON array.
        case array(FieldType)
        /// JSON object with string keys.
        case map(FieldType)

        /// Parses the spec notation: a scalar name, a declared name, `[T]` or `{string:T}`.
        static func parse(_ text: String, declared: Set<String>) -> FieldType? {
            if text.hasPrefix("["), text.hasSuffix("]") {
                guard let element = parse(String(text.dropFirst().dropLast()), declared: declared) else { return nil }
                switch element {
                case .array, .map, .base64: return nil
                default: return .array(element)
                }
            }
            if text.hasPrefix("{string:"), text.hasSuffix("}") {
                guard let value = parse(String(text.dropFirst("{string:".count).dropLast()), declared: declared) else { return nil }
                switch value {
                case .string, .uint64, .int, .int64, .bool: return .map(value)
                default: return nil
                }
            }
            switch text {
            case "string": return .string
            case "bool": return .bool
            case "int": return .int
            case "int64": return .int64
            case "uint64": return .uint64
            case "duration": return .duration
            case "time": return .time
            case "base64": return .base64
            default: return declared.contains(text) ? .named(text) : nil
            }
        }

        /// The Swift type.
        public var swiftType: String {
            switch self {
            case .string, .time: return "String"
            case .bool: return "Bool"
            case .int: return "Int"
            case .int64: return "Int64"
            case .uint64: return "UInt64"
            case .duration: return "Duration"
            case .base64: return "[UInt8]"
            case .named(let name): return name
            case .array(let element): return "[\(element.swiftType)]"
            case .map(let value): return "[String: \(value.swiftType)]"
            }
        }
    }

    /// An API subject, relative to the API prefix (`$JS.API` by default).
    public struct Subject: Sendable, Equatable {
        /// lowerCamelCase function name.
        public let name: String
        /// Dot-separated tokens; `{placeholder}` tokens become parameters.
        public let template: String
        /// The placeholders in template order.
        public let parameters: [String]
        /// The request body's type, if the request has a JSON body.
        public let request: String?
        /// The response body's type, if the response is JSON.
        public let response: String?
        /// Documentation.
        public let doc: String
    }

    /// A header name clients set or read.
    public struct Header: Sendable, Equatable {
        /// lowerCamelCase Swift name.
        public let name: String
        /// The header name on the wire.
        public let value: String
        /// Documentation.
        public let doc: String
    }

    /// One value of a string enum.
    public struct EnumCase: Sendable, Equatable {
        /// lowerCamelCase Swift name.
        public let name: String
        /// The JSON string.
        public let value: String
        /// Documentation.
        public let doc: String
    }

    /// A string enum, rendered as an extensible `RawRepresentable` struct.
    public struct Enum: Sendable, Equatable {
        /// UpperCamelCase type name.
        public let name: String
        /// Documentation.
        public let doc: String
        /// The known values.
        public let cases: [EnumCase]
    }

    /// A field of a struct.
    public struct Field: Sendable, Equatable {
        /// lowerCamelCase Swift name.
        public let name: String
        /// The JSON key.
        public let json: String
        /// The wire type.
        public let type: FieldType
        /// Whether the server always sends it (non-optional in Swift).
        public let required: Bool
        /// Documentation.
        public let doc: String
    }

    /// A JSON object shape, rendered as a `Codable` struct.
    public struct TypeDecl: Sendable, Equatable {
        /// UpperCamelCase type name.
        public let name: String
        /// Documentation.
        public let doc: String
        /// The fields in file order.
        public let fields: [Field]
    }

    /// A JetStream API error code.
    public struct ErrorCode: Sendable, Equatable {
        /// lowerCamelCase Swift name.
        public let name: String
        /// The server's `err_code`.
        public let errCode: Int
        /// The HTTP-like `code` the server sends with it.
        public let code: Int
        /// The server's description text (placeholders in braces).
        public let description: String
        /// Whether trying again later can succeed.
        public let retriable: Bool
        /// Whether this is a failed publish expectation (`Nats-Expected-*`).
        public let expectationFailed: Bool
        /// What the user should do, in one sentence.
        public let hint: String
    }

    /// The default API prefix.
    public let apiPrefix: String
    /// Subjects in file order.
    public let subjects: [Subject]
    /// Headers in file order.
    public let headers: [Header]
    /// Enums in file order.
    public let enums: [Enum]
    /// Types in file order.
    public let types: [TypeDecl]
    /// Error codes in file order.
    public let errors: [ErrorCode]

    /// Reads and validates `document`.
    ///
    /// - Throws: ``SpecError`` naming the file and key of the first problem: unknown keys,
    ///   duplicate names, unknown field types, subjects naming undeclared types, duplicate error codes.
    public init(document: SpecDocument) throws(SpecError) {
        let body = try document.body(allowing: ["apiPrefix", "subjects", "headers", "enums", "types", "errors"])
        apiPrefix = try body.required("apiPrefix").trimmedString()

        // Declared names first, so fields may refer to types declared later in the file.
        var declared = Set<String>()
        var typeNames = UniqueNames()
        let enumNodes = try body.required("enums").array()
        let typeNodes = try body.required("types").array()
        for node in enumNodes + typeNodes {
            let nameNode = try node.object(allowedKeys: ["name", "doc", "cases", "fields"]).required("name")
            let name = try Self.upperCamelCase(nameNode)
            try typeNames.insert(name, at: nameNode, what: "type name")
            declared.insert(name)
        }

        var enums: [Enum] = []
        for node in enumNodes {
            let object = try node.object(allowedKeys: ["name", "doc", "cases"])
            var caseNames = UniqueNames()
            var values = UniqueNames()
            var cases: [EnumCase] = []
            let casesNode = try object.required("cases")
            for caseNode in try casesNode.array() {
                let caseObject = try caseNode.object(allowedKeys: ["name", "value", "doc"])
                let nameNode = try caseObject.required("name")
                let name = try nameNode.lowerCamelCaseIdentifier()
                try caseNames.insert(name, at: nameNode, what: "case name")
                let valueNode = try caseObject.required("value")
                let value = try valueNode.string()
                try values.insert(value, at: valueNode, what: "case value")
                cases.append(EnumCase(name: name, value: value, doc: try caseObject.required("doc").text()))
            }
            guard !cases.isEmpty else { throw casesNode.error("an enum needs at least one case") }
            enums.append(Enum(name: try object.required("name").string(), doc: try object.required("doc").text(), cases: cases))
        }

        var types: [TypeDecl] = []
        for node in typeNodes {
            let object = try node.object(allowedKeys: ["name", "doc", "fields"])
            var fieldNames = UniqueNames()
            var keys = UniqueNames()
            var fields: [Field] = []
            let fieldsNode = try object.required("fields")
            for fieldNode in try fieldsNode.array() {
                let fieldObject = try fieldNode.object(allowedKeys: ["name", "json", "type", "required", "doc"])
                let nameNode = try fieldObject.required("name")
                let name = try nameNode.lowerCamelCaseIdentifier()
                try fieldNames.insert(name, at: nameNode, what: "field name")
                let jsonNode = try fieldObject.required("json")
                let json = try jsonNode.trimmedString()
                try keys.insert(json, at: jsonNode, what: "JSON key")
                let typeNode = try fieldObject.required("type")
                let typeText = try typeNode.trimmedString()
                guard let type = FieldType.parse(typeText, declared: declared) else {
                    throw typeNode.error("unknown type \"\(typeText)\"; use string, bool, int, int64, uint64, duration, time, base64, a declared type, [T] or {string:T}")
                }
                let required = try fieldObject.optional("required")?.bool() ?? false
                if required, type == .base64 {
                    throw typeNode.error("base64 fields cannot be required (Go omits empty byte slices)")
                }
                fields.append(Field(name: name, json: json, type: type, required: required, doc: try fieldObject.required("doc").singleLineText()))
            }
            guard !fields.isEmpty else { throw fieldsNode.error("a type needs at least one field") }
            types.append(TypeDecl(name: try object.required("name").string(), doc: try object.required("doc").text(), fields: fields))
        }

        var subjects: [Subject] = []
        var subjectNames = UniqueNames()
        var templates = UniqueNames()
        for node in try body.required("subjects").array() {
            let object = try node.object(allowedKeys: ["name", "template", "request", "response", "doc"])
            let nameNode = try object.required("name")
            let name = try nameNode.lowerCamelCaseIdentifier()
            try subjectNames.insert(name, at: nameNode, what: "subject name")
            let templateNode = try object.required("template")
            let template = try templateNode.trimmedString()
            try templates.insert(template, at: templateNode, what: "subject template")
            var parameters: [String] = []
            for token in template.split(separator: ".", omittingEmptySubsequences: false) {
                if token.hasPrefix("{"), token.hasSuffix("}") {
                    let parameter = String(token.dropFirst().dropLast())
                    guard SwiftIdentifier.isLowerCamelCase(parameter), !SwiftIdentifier.keywords.contains(parameter) else {
                        throw templateNode.error("placeholder {\(parameter)} must be a lowerCamelCase identifier")
                    }
                    guard !parameters.contains(parameter) else { throw templateNode.error("placeholder {\(parameter)} appears twice") }
                    parameters.append(parameter)
                } else {
                    guard !token.isEmpty, token.allSatisfy({ $0.isUppercase || $0 == "_" }) else {
                        throw templateNode.error("token \"\(token)\" must be uppercase letters or a {placeholder}")
                    }
                }
            }
            var references: [String?] = []
            for key in ["request", "response"] {
                guard let referenceNode = object.optional(key) else { references.append(nil); continue }
                let reference = try referenceNode.trimmedString()
                guard types.contains(where: { $0.name == reference }) else {
                    throw referenceNode.error("\"\(reference)\" is not a type declared in \"types\"")
                }
                references.append(reference)
            }
            subjects.append(Subject(name: name, template: template, parameters: parameters, request: references[0],
                                    response: references[1], doc: try object.required("doc").text()))
        }

        var headers: [Header] = []
        var headerNames = UniqueNames()
        var headerValues = UniqueNames()
        for node in try body.required("headers").array() {
            let object = try node.object(allowedKeys: ["name", "value", "doc"])
            let nameNode = try object.required("name")
            let name = try nameNode.lowerCamelCaseIdentifier()
            try headerNames.insert(name, at: nameNode, what: "header name")
            let valueNode = try object.required("value")
            let value = try valueNode.trimmedString()
            try headerValues.insert(value.lowercased(), at: valueNode, what: "header")
            headers.append(Header(name: name, value: value, doc: try object.required("doc").text()))
        }

        var errors: [ErrorCode] = []
        var errorNames = UniqueNames()
        var errCodes = UniqueNames()
        for node in try body.required("errors").array() {
            let object = try node.object(allowedKeys: ["name", "errCode", "code", "description", "retriable", "expectationFailed", "hint"])
            let nameNode = try object.required("name")
            let name = try nameNode.lowerCamelCaseIdentifier()
            guard !["rawValue", "name", "description", "known", "entry"].contains(name) else {
                throw nameNode.error("\"\(name)\" is reserved; choose another name")
            }
            try errorNames.insert(name, at: nameNode, what: "error name")
            let errCodeNode = try object.required("errCode")
            let errCode = try errCodeNode.int()
            guard (10000...19999).contains(errCode) else { throw errCodeNode.error("JetStream error codes are 10000…19999, got \(errCode)") }
            try errCodes.insert(String(errCode), at: errCodeNode, what: "err_code")
            let codeNode = try object.required("code")
            let code = try codeNode.int()
            guard (400...599).contains(code) else { throw codeNode.error("code must be an HTTP-like status 400…599, got \(code)") }
            errors.append(ErrorCode(
                name: name, errCode: errCode, code: code,
                description: try object.required("description").trimmedString(),
                retriable: try object.required("retriable").bool(),
                expectationFailed: try object.required("expectationFailed").bool(),
                hint: try object.required("hint").singleLineText()
            ))
        }

        self.subjects = subjects
        self.headers = headers
        self.enums = enums
        self.types = types
        self.errors = errors
    }

    private static func upperCamelCase(_ node: SpecNode) throws(SpecError) -> String {
        let value = try node.string()
        guard let first = value.unicodeScalars.first, ("A"..."Z").contains(first),
              value.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }) else {
            throw node.error("\"\(value)\" is not UpperCamelCase (letters and digits, starting with an uppercase letter)")
        }
        return value
    }
}
