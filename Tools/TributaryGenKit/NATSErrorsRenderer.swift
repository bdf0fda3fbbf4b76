/// Renders `nats/errors.json` into `NATSServerErrorTable.swift`: `NATSServerErrorKind`,
/// `NATSServerErrorRule` and `NATSServerErrorTable` in `TributaryNATSProtocol`.
public struct NATSErrorsRenderer: SpecRenderer {
    /// `nats.errors`.
    public var family: String { NATSErrorsSpec.family }
    /// `Sources/TributaryNATSProtocol/Generated`.
    public var outputDirectory: String { "Sources/TributaryNATSProtocol/Generated" }
    /// The name of the file produced.
    public static let fileName = "NATSServerErrorTable.swift"

    /// Creates the renderer.
    public init() {}

    /// Validates the single `nats.errors` spec and renders it.
    public func render(_ documents: [SpecDocument]) throws(SpecError) -> [GeneratedFile] {
        let document = try singleDocument(documents, expectedPath: "nats/errors.json")
        let spec = try NATSErrorsSpec(document: document)
        return [GeneratedFile(path: "\(outputDirectory)/\(Self.fileName)", contents: render(spec, document: document))]
    }

    /// The Swift source for `spec`, read from `document`.
    public func render(_ spec: NATSErrorsSpec, document: SpecDocument) -> String {
        // Sorted by kind so reordering the spec does not churn the output; the classification
        // rule (longest match wins) does not depend on order.
        let rules = spec.rules.sorted { $0.kind < $1.kind }
        var out = SwiftSource()
        out.raw(SwiftSource.header(specFile: document.path, source: document.source))
        out.line()

        out.doc("""
            A class of error that nats-server reports with `-ERR`.

            Compare with the static members; new kinds may be added in later versions, so code that
            switches over kinds should handle others too.
            """)
        out.block("public struct NATSServerErrorKind: Hashable, Sendable, CustomStringConvertible") { body in
            body.doc("The kind's name, as written in `ProtocolSpecs/\(document.path)` (lowerCamelCase).")
            body.line("public let name: String")
            body.line()
            body.doc("The kind's name.")
            body.line("public var description: String { name }")
            body.line()
            body.line("init(name: String) {")
            body.line("    self.name = name")
            body.line("}")
            for rule in rules {
                body.line()
                body.doc(rule.doc)
                body.doc("")
                body.doc("- Match: `\(rule.match)` (prefix, any case)")
                body.doc("- Closes the connection: \(rule.closesConnection ? "yes" : "no")")
                body.doc("- \(rule.examples.count == 1 ? "Example" : "Examples"): \(rule.examples.map { "`\($0)`" }.joined(separator: ", "))")
                body.doc("- What to do: \(rule.hint)")
                body.line("public static let \(rule.kind) = NATSServerErrorKind(name: \(SwiftSource.stringLiteral(rule.kind)))")
            }
            body.line()
            body.doc(spec.unknown.doc)
            body.line("public static let unknown = NATSServerErrorKind(name: \"unknown\")")
        }
        out.line()

        out.doc("How to recognise one `-ERR` text, and what it means for the connection and the user.")
        out.block("public struct NATSServerErrorRule: Hashable, Sendable") { body in
            body.doc("The kind of error this rule recognises.")
            body.line("public let kind: NATSServerErrorKind")
            body.line()
            body.doc("Lowercase prefix of the `-ERR` text (surrounding quotes and whitespace removed); empty for `.unknown`.")
            body.line("public let match: String")
            body.line()
            body.doc("Whether the server closes the connection after sending this error.")
            body.line("public let closesConnection: Bool")
            body.line()
            body.doc("What the user should do about this error, in one sentence.")
            body.line("public let hint: String")
        }
        out.line()

        out.doc("The `-ERR` texts nats-server sends, from `ProtocolSpecs/\(document.path)`.")
        out.block("public enum NATSServerErrorTable: Sendable") { body in
            body.doc("Every known rule, sorted by kind name; `match` texts are unique.")
            body.line("public static let rules: [NATSServerErrorRule] = [")
            body.indented { list in
                for rule in rules {
                    list.line("NATSServerErrorRule(")
                    list.indented { arguments in
                        arguments.line("kind: .\(rule.kind),")
                        arguments.line("match: \(SwiftSource.stringLiteral(rule.match)),")
                        arguments.line("closesConnection: \(rule.closesConnection),")
                        arguments.line("hint: \(SwiftSource.stringLiteral(rule.hint))")
                    }
                    list.line("),")
                }
            }
            body.line("]")
            body.line()
            body.doc("The rule ``classify(_:)`` returns when no rule matches.")
            body.line("static let unknownRule = NATSServerErrorRule(")
            body.indented { arguments in
                arguments.line("kind: .unknown,")
                arguments.line("match: \"\",")
                arguments.line("closesConnection: \(spec.unknown.closesConnection),")
                arguments.line("hint: \(SwiftSource.stringLiteral(spec.unknown.hint))")
            }
            body.line(")")
            body.line()
            body.doc("""
                Classifies the text of an `-ERR` line.

                Surrounding whitespace and one pair of surrounding single quotes are removed (the server
                sends `-ERR 'Authorization Violation'`), then the text is compared case-insensitively with
                each rule's `match`; the longest matching prefix wins. When nothing matches, the result
                has kind `.unknown`, `closesConnection` \(spec.unknown.closesConnection) and a generic hint.
                """)
            body.block("public static func classify(_ text: String) -> NATSServerErrorRule") { function in
                function.line("let normalized = normalize(text)")
                function.line("var best: NATSServerErrorRule?")
                function.block("for rule in rules where normalized.hasPrefix(rule.match)") { loop in
                    loop.line("if let current = best, current.match.count >= rule.match.count { continue }")
                    loop.line("best = rule")
                }
                function.line("return best ?? unknownRule")
            }
            body.line()
            body.doc("Removes surrounding whitespace and one pair of surrounding single quotes, then lowercases.")
            body.block("static func normalize(_ text: String) -> String") { function in
                function.line("var slice = Substring(text)")
                function.line("trimWhitespace(&slice)")
                function.line("if slice.first == \"'\" { slice.removeFirst() }")
                function.line("if slice.last == \"'\" { slice.removeLast() }")
                function.line("trimWhitespace(&slice)")
                function.line("return slice.lowercased()")
            }
            body.line()
            body.block("private static func trimWhitespace(_ slice: inout Substring)") { function in
                function.line("while slice.first?.isWhitespace == true { slice.removeFirst() }")
                function.line("while slice.last?.isWhitespace == true { slice.removeLast() }")
            }
        }
        return out.text
    }
}
