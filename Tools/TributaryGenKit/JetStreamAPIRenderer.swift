/// Renders `nats/jetstream-api.json` into `Sources/TributaryJetStream/Generated/`:
/// `JetStreamAPISubject.swift` (subjects and headers), `JetStreamAPITypes.swift` (Codable
/// request/response types and string enums) and `JetStreamAPIErrorCode.swift`.
///
/// The types encode and decode through helpers the module writes by hand
/// (`decodeNanosecondsIfPresent`, `encodeBase64IfPresent`, … in `JetStreamCoding.swift`), so
/// durations travel as integer nanoseconds and bytes as base64, as nats-server expects.
public struct JetStreamAPIRenderer: SpecRenderer {
    /// `nats.jetstream`.
    public var family: String { JetStreamAPISpec.family }
    /// `Sources/TributaryJetStream/Generated`.
    public var outputDirectory: String { "Sources/TributaryJetStream/Generated" }

    /// Creates the renderer.
    public init() {}

    /// Validates the single `nats.jetstream` spec and renders it; renders nothing when there is
    /// none (spec sets without JetStream, as in tests), while two files are an error.
    public func render(_ documents: [SpecDocument]) throws(SpecError) -> [GeneratedFile] {
        if documents.isEmpty { return [] }
        let document = try singleDocument(documents, expectedPath: "nats/jetstream-api.json")
        let spec = try JetStreamAPISpec(document: document)
        return [
            GeneratedFile(path: "\(outputDirectory)/JetStreamAPIErrorCode.swift", contents: renderErrors(spec, document: document)),
            GeneratedFile(path: "\(outputDirectory)/JetStreamAPISubject.swift", contents: renderSubjects(spec, document: document)),
            GeneratedFile(path: "\(outputDirectory)/JetStreamAPITypes.swift", contents: renderTypes(spec, document: document)),
        ]
    }

    // MARK: Subjects and headers

    func renderSubjects(_ spec: JetStreamAPISpec, document: SpecDocument) -> String {
        var out = SwiftSource()
        out.raw(SwiftSource.header(specFile: document.path, source: document.source))
        out.line()
        out.doc("""
            JetStream API subjects, relative to the API prefix.

            Prepend the prefix and a dot: `\(spec.apiPrefix).` by default, `$JS.<domain>.API.` for a domain.
            """)
        out.block("public enum JetStreamAPISubject: Sendable") { body in
            body.doc("The default API prefix: `\(spec.apiPrefix)`.")
            body.line("public static let defaultPrefix = \(SwiftSource.stringLiteral(spec.apiPrefix))")
            for subject in spec.subjects {
                body.line()
                body.doc(subject.doc)
                body.doc("")
                body.doc("- Subject: `\(subject.template)`")
                body.doc("- Request: " + (subject.request.map { "``\($0)``" } ?? "none"))
                body.doc("- Response: " + (subject.response.map { "``\($0)`` (or ``APIErrorResponse``)" } ?? "not JSON"))
                let parameters = subject.parameters.map { "\($0): String" }.joined(separator: ", ")
                let interpolated = subject.template.split(separator: ".").map { token -> String in
                    token.hasPrefix("{") ? "\\(\(token.dropFirst().dropLast()))" : String(token)
                }.joined(separator: ".")
                body.block("public static func \(subject.name)(\(parameters)) -> String") { function in
                    function.line("\"\(interpolated)\"")
                }
            }
        }
        out.line()
        out.doc("Header names JetStream clients set on publishes or read from replies.")
        out.block("public enum JetStreamHeader: Sendable") { body in
            for (index, header) in spec.headers.enumerated() {
                if index > 0 { body.line() }
                body.doc(header.doc)
                body.line("public static let \(header.name) = \(SwiftSource.stringLiteral(header.value))")
            }
        }
        return out.text
    }

    // MARK: Error codes

    func renderErrors(_ spec: JetStreamAPISpec, document: SpecDocument) -> String {
        let errors = spec.errors.sorted { $0.errCode < $1.errCode }
        var out = SwiftSource()
        out.raw(SwiftSource.header(specFile: document.path, source: document.source))
        out.line()
        out.doc("""
            A JetStream API error code: the `err_code` of an API error.

            Compare with the static members. Codes this table does not list are kept as they arrived,
            so new server codes never fail decoding.
            """)
        out.block("public struct JetStreamAPIErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible") { body in
            body.doc("The numeric `err_code`.")
            body.line("public let rawValue: Int")
            body.line()
            body.doc("Wraps an `err_code`.")
            body.block("public init(rawValue: Int)") { function in
                function.line("self.rawValue = rawValue")
            }
            body.line()
            body.doc("The code's name in this table, or its number.")
            body.line("public var description: String { Self.known[rawValue]?.name ?? String(rawValue) }")
            for error in errors {
                body.line()
                body.doc("`\(error.description)`: status \(error.code), `err_code` \(error.errCode).")
                body.doc("")
                body.doc("What to do: \(error.hint)")
                body.line("public static let \(error.name) = JetStreamAPIErrorCode(rawValue: \(error.errCode))")
            }
            body.line()
            body.doc("What this table knows about one code.")
            body.block("public struct Entry: Sendable") { entry in
                entry.doc("The code's name.")
                entry.line("public let name: String")
                entry.doc("The HTTP-like status the server sends with it.")
                entry.line("public let status: Int")
                entry.doc("The server's description (placeholders in braces).")
                entry.line("public let serverDescription: String")
                entry.doc("Whether trying again later can succeed.")
                entry.line("public let isRetriable: Bool")
                entry.doc("Whether this is a failed publish expectation (`Nats-Expected-*` headers).")
                entry.line("public let isExpectationFailure: Bool")
                entry.doc("What the user should do.")
                entry.line("public let hint: String")
            }
            body.line()
            body.doc("Every code in this table, by `err_code`.")
            body.line("public static let known: [Int: Entry] = [")
            body.indented { list in
                for error in errors {
                    list.line("\(error.errCode): Entry(")
                    list.indented { arguments in
                        arguments.line("name: \(SwiftSource.stringLiteral(error.name)),")
                        arguments.line("status: \(error.code),")
                        arguments.line("serverDescription: \(SwiftSource.stringLiteral(error.description)),")
                        arguments.line("isRetriable: \(error.retriable),")
                        arguments.line("isExpectationFailure: \(error.expectationFailed),")
                        arguments.line("hint: \(SwiftSource.stringLiteral(error.hint))")
                    }
                    list.line("),")
                }
            }
            body.line("]")
        }
        return out.text
    }

    // MARK: Types

    func renderTypes(_ spec: JetStreamAPISpec, document: SpecDocument) -> String {
        var out = SwiftSource()
        out.raw(SwiftSource.header(specFile: document.path, source: document.source))
        out.line()
        for (index, decl) in spec.enums.sorted(by: { $0.name < $1.name }).enumerated() {
            if index > 0 { out.line() }
            renderEnum(decl, into: &out)
        }
        for decl in spec.types.sorted(by: { $0.name < $1.name }) {
            out.line()
            renderStruct(decl, into: &out)
        }
        return out.text
    }

    private func renderEnum(_ decl: JetStreamAPISpec.Enum, into out: inout SwiftSource) {
        out.doc(decl.doc)
        out.doc("")
        out.doc("Extensible: values a newer server sends decode as they are.")
        out.block("public struct \(decl.name): RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible") { body in
            body.doc("The JSON string.")
            body.line("public let rawValue: String")
            body.line()
            body.doc("Wraps a JSON string.")
            body.block("public init(rawValue: String)") { function in
                function.line("self.rawValue = rawValue")
            }
            body.line()
            body.doc("The JSON string.")
            body.line("public var description: String { rawValue }")
            for value in decl.cases {
                body.line()
                body.doc("\(value.doc) (`\"\(value.value)\"`)")
                body.line("public static let \(value.name) = \(decl.name)(rawValue: \(SwiftSource.stringLiteral(value.value)))")
            }
        }
    }

    private func propertyType(_ field: JetStreamAPISpec.Field) -> String {
        field.required ? field.type.swiftType : field.type.swiftType + "?"
    }

    private func renderStruct(_ decl: JetStreamAPISpec.TypeDecl, into out: inout SwiftSource) {
        out.doc(decl.doc)
        out.block("public struct \(decl.name): Codable, Hashable, Sendable") { body in
            for field in decl.fields {
                body.doc("\(field.doc) JSON: `\(field.json)`.")
                body.line("public var \(field.name): \(propertyType(field))")
            }
            body.line()
            body.doc("Creates a value; optional fields default to nil (left out of the JSON).")
            let parameters = decl.fields.map { field in
                "\(field.name): \(propertyType(field))" + (field.required ? "" : " = nil")
            }
            body.line("public init(")
            body.indented { list in
                for (index, parameter) in parameters.enumerated() {
                    list.line(parameter + (index == parameters.count - 1 ? "" : ","))
                }
            }
            body.block(")") { function in
                for field in decl.fields {
                    function.line("self.\(field.name) = \(field.name)")
                }
            }
            body.line()
            body.block("enum CodingKeys: String, CodingKey") { keys in
                for field in decl.fields {
                    keys.line("case \(field.name) = \(SwiftSource.stringLiteral(field.json))")
                }
            }
            body.line()
            body.doc("Decodes from the server's JSON; unknown keys are ignored.")
            body.block("public init(from decoder: any Decoder) throws") { function in
                function.line("let container = try decoder.container(keyedBy: CodingKeys.self)")
                for field in decl.fields {
                    function.line("\(field.name) = try \(decodeExpression(field))")
                }
            }
            body.line()
            body.doc("Encodes the server's JSON; nil fields are left out.")
            body.block("public func encode(to encoder: any Encoder) throws") { function in
                function.line("var container = encoder.container(keyedBy: CodingKeys.self)")
                for field in decl.fields {
                    function.line("try \(encodeStatement(field))")
                }
            }
        }
    }

    private func decodeExpression(_ field: JetStreamAPISpec.Field) -> String {
        let key = ".\(field.name)"
        let suffix = field.required ? "" : "IfPresent"
        switch field.type {
        case .duration: return "container.decodeNanoseconds\(suffix)(forKey: \(key))"
        case .array(.duration): return "container.decodeNanosecondArray\(suffix)(forKey: \(key))"
        case .base64: return "container.decodeBase64IfPresent(forKey: \(key))"
        default: return "container.decode\(suffix)(\(field.type.swiftType).self, forKey: \(key))"
        }
    }

    private func encodeStatement(_ field: JetStreamAPISpec.Field) -> String {
        let key = ".\(field.name)"
        let suffix = field.required ? "" : "IfPresent"
        switch field.type {
        case .duration: return "container.encodeNanoseconds\(suffix)(\(field.name), forKey: \(key))"
        case .array(.duration): return "container.encodeNanosecondArray\(suffix)(\(field.name), forKey: \(key))"
        case .base64: return "container.encodeBase64IfPresent(\(field.name), forKey: \(key))"
        default: return "container.encode\(suffix)(\(field.name), forKey: \(key))"
        }
    }
}
