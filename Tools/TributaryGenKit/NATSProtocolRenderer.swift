/// Renders `nats/protocol.json` into `NATSProtocolConstants.swift`: the `NATSProtocolConstants`,
/// `NATSStatusCode` and `NATSOperation` types of `TributaryNATSProtocol`.
public struct NATSProtocolRenderer: SpecRenderer {
    /// `nats.protocol`.
    public var family: String { NATSProtocolSpec.family }
    /// `Sources/TributaryNATSProtocol/Generated`.
    public var outputDirectory: String { "Sources/TributaryNATSProtocol/Generated" }
    /// The name of the file produced.
    public static let fileName = "NATSProtocolConstants.swift"

    /// Creates the renderer.
    public init() {}

    /// Validates the single `nats.protocol` spec and renders it.
    public func render(_ documents: [SpecDocument]) throws(SpecError) -> [GeneratedFile] {
        let document = try singleDocument(documents, expectedPath: "nats/protocol.json")
        let spec = try NATSProtocolSpec(document: document)
        return [GeneratedFile(path: "\(outputDirectory)/\(Self.fileName)", contents: render(spec, document: document))]
    }

    /// The Swift source for `spec`, read from `document`.
    public func render(_ spec: NATSProtocolSpec, document: SpecDocument) -> String {
        var out = SwiftSource()
        out.raw(SwiftSource.header(specFile: document.path, source: document.source))
        out.line()

        out.doc("Limits, defaults and fixed strings of the NATS client protocol.")
        out.block("public enum NATSProtocolConstants: Sendable") { body in
            for (index, constant) in spec.constants.enumerated() {
                if index > 0 { body.line() }
                body.doc(constant.doc)
                switch constant.value {
                case .int(let value):
                    body.line("public static let \(constant.name): Int = \(value)")
                case .string(let value):
                    body.line("public static let \(constant.name): String = \(SwiftSource.stringLiteral(value))")
                }
            }
        }
        out.line()

        out.doc("""
            Status codes the server writes after `NATS/1.0` on the first header line of a message.

            A message carrying one of these is a status message from the server, not application data;
            the code may be followed by a description (`NATS/1.0 404 No Messages`).
            """)
        out.block("public enum NATSStatusCode: Sendable") { body in
            for (index, status) in spec.statusCodes.enumerated() {
                if index > 0 { body.line() }
                body.doc(status.doc)
                body.line("public static let \(status.name): Int = \(status.code)")
            }
        }
        out.line()

        out.doc("""
            An operation (protocol message) of the NATS client protocol; `rawValue` is its name on the wire.

            Operation names are case-insensitive on the wire; `rawValue` is the canonical uppercase form.
            """)
        out.block("public enum NATSOperation: String, CaseIterable, Sendable") { body in
            for operation in spec.operations {
                body.doc(operation.doc)
                body.doc("")
                body.doc("Sent by: \(operation.sender == .both ? "client and server" : operation.sender.rawValue).")
                body.doc("")
                body.doc("Wire syntax: `\(operation.syntax)`")
                for argument in operation.arguments {
                    body.doc("- `\(argument.name)`\(argument.isOptional ? " (optional)" : ""): \(argument.doc)")
                }
                body.line("case \(operation.name) = \(SwiftSource.stringLiteral(operation.wire))")
                body.line()
            }

            body.doc("Whether the server sends this operation (`PING` and `PONG` are sent by both sides).")
            renderBoolSwitch(into: &body, name: "sentByServer", spec: spec) { $0.sender != .client }
            body.line()
            body.doc("Whether the client sends this operation (`PING` and `PONG` are sent by both sides).")
            renderBoolSwitch(into: &body, name: "sentByClient", spec: spec) { $0.sender != .server }
            body.line()
            body.doc("""
                The operation's arguments in wire order, named as in the protocol documentation.

                Optional arguments are written in square brackets: `PUB` has `["subject", "[reply-to]", "#bytes"]`.
                """)
            body.block("public var arguments: [String]") { property in
                property.switchBlock("self") { cases in
                    for operation in spec.operations {
                        let names = operation.arguments.map { SwiftSource.stringLiteral($0.isOptional ? "[\($0.name)]" : $0.name) }
                        cases.line("case .\(operation.name): [\(names.joined(separator: ", "))]")
                    }
                }
            }
        }
        return out.text
    }

    private func renderBoolSwitch(
        into body: inout SwiftSource,
        name: String,
        spec: NATSProtocolSpec,
        predicate: (NATSProtocolSpec.Operation) -> Bool
    ) {
        let yes = spec.operations.filter(predicate).map { ".\($0.name)" }
        let no = spec.operations.filter { !predicate($0) }.map { ".\($0.name)" }
        body.block("public var \(name): Bool") { property in
            if no.isEmpty {
                property.line("true")
            } else if yes.isEmpty {
                property.line("false")
            } else {
                property.switchBlock("self") { cases in
                    cases.line("case \(yes.joined(separator: ", ")): true")
                    cases.line("case \(no.joined(separator: ", ")): false")
                }
            }
        }
    }
}
