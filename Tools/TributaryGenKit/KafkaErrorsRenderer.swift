/// Renders `kafka/errors.json` into `KafkaErrorCode.swift` in TributaryKafkaProtocol.
public struct KafkaErrorsRenderer: SpecRenderer {
    /// `kafka.errors`.
    public var family: String { KafkaErrorsSpec.family }
    /// `Sources/TributaryKafkaProtocol/Generated`.
    public var outputDirectory: String { "Sources/TributaryKafkaProtocol/Generated" }
    /// The name of the file produced.
    public static let fileName = "KafkaErrorCode.swift"

    /// Creates the renderer.
    public init() {}

    /// Validates the single `kafka.errors` spec and renders it; no spec file, no output (so a
    /// package without Kafka specs still generates).
    public func render(_ documents: [SpecDocument]) throws(SpecError) -> [GeneratedFile] {
        guard !documents.isEmpty else { return [] }
        let document = try singleDocument(documents, expectedPath: "kafka/errors.json")
        let spec = try KafkaErrorsSpec(document: document)
        return [GeneratedFile(path: "\(outputDirectory)/\(Self.fileName)", contents: render(spec, document: document))]
    }

    /// The Swift source for `spec`, read from `document`.
    public func render(_ spec: KafkaErrorsSpec, document: SpecDocument) -> String {
        var out = SwiftSource()
        out.raw(SwiftSource.header(specFile: document.path, source: document.source))
        out.line()
        out.doc("""
            An error code from a Kafka response (`ErrorCode` fields); 0 means success.

            Known codes are static members with their name, retriable flag, meaning and advice. Codes
            this table does not know (a newer broker) are still representable: their `name` is
            `UNKNOWN_CODE_<n>` and they are not retriable.
            """)
        out.block("public struct KafkaErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible") { body in
            body.doc("One row of the error table.")
            body.block("public struct Info: Hashable, Sendable") { info in
                info.doc("The code.")
                info.line("public let code: Int16")
                info.doc("Kafka's name, such as `UNKNOWN_TOPIC_OR_PARTITION`.")
                info.line("public let name: String")
                info.doc("Whether the Java client retries this error (its exception is a `RetriableException`).")
                info.line("public let isRetriable: Bool")
                info.doc("What the error means.")
                info.line("public let summary: String")
                info.doc("What to do about it.")
                info.line("public let hint: String")
            }
            body.line()
            body.doc("The code as sent on the wire.")
            body.line("public let rawValue: Int16")
            body.line()
            body.doc("Wraps a code from a response.")
            body.block("public init(rawValue: Int16)") { initializer in
                initializer.line("self.rawValue = rawValue")
            }
            for entry in spec.entries {
                body.line()
                body.doc("\(entry.description)\n\nCode \(entry.code), `\(entry.name)`, \(entry.retriable ? "retriable" : "not retriable"). \(entry.hint)")
                body.line("public static let \(entry.swiftName) = KafkaErrorCode(rawValue: \(entry.code))")
            }
            body.line()
            body.doc("Every known code in ascending order.")
            body.line("public static let all: [Info] = [")
            body.indented { list in
                for entry in spec.entries {
                    list.line("Info(")
                    list.indented { arguments in
                        arguments.line("code: \(entry.code),")
                        arguments.line("name: \(SwiftSource.stringLiteral(entry.name)),")
                        arguments.line("isRetriable: \(entry.retriable),")
                        arguments.line("summary: \(SwiftSource.stringLiteral(entry.description)),")
                        arguments.line("hint: \(SwiftSource.stringLiteral(entry.hint))")
                    }
                    list.line("),")
                }
            }
            body.line("]")
            body.line()
            body.doc("The table row for this code, or nil when the code is unknown.")
            body.block("public var info: Info?") { getter in
                getter.switchBlock("rawValue") { cases in
                    for (index, entry) in spec.entries.enumerated() {
                        cases.line("case \(entry.code): Self.all[\(index)]")
                    }
                    cases.line("default: nil")
                }
            }
            body.line()
            body.doc("Whether the code reports a failure (anything but 0).")
            body.line("public var isError: Bool { rawValue != 0 }")
            body.line()
            body.doc("Kafka's name of the code, or `UNKNOWN_CODE_<n>` for codes not in the table.")
            body.line("public var name: String { info?.name ?? \"UNKNOWN_CODE_\\(rawValue)\" }")
            body.line()
            body.doc("Whether retrying (maybe after refreshing metadata) can succeed; false for unknown codes.")
            body.line("public var isRetriable: Bool { info?.isRetriable ?? false }")
            body.line()
            body.doc("What the code means.")
            body.line("public var summary: String { info?.summary ?? \"The broker returned error code \\(rawValue), which this version of Tributary does not know.\" }")
            body.line()
            body.doc("What to do about it.")
            body.line("public var hint: String { info?.hint ?? \"Check the broker's version and documentation for this code.\" }")
            body.line()
            body.doc("The name and code, such as `NOT_COORDINATOR (16)`.")
            body.line("public var description: String { \"\\(name) (\\(rawValue))\" }")
        }
        return out.text
    }
}
