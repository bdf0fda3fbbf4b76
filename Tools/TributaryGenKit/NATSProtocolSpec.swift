/// The contents of `ProtocolSpecs/nats/protocol.json` (family `nats.protocol`), validated.
public struct NATSProtocolSpec: Sendable, Equatable {
    /// A constant's value; the spec's `type` key says which.
    public enum ConstantValue: Sendable, Equatable {
        /// `"type": "int"`.
        case int(Int)
        /// `"type": "string"`.
        case string(String)
    }

    /// A protocol constant, rendered as a `static let` on `NATSProtocolConstants`.
    public struct Constant: Sendable, Equatable {
        /// lowerCamelCase Swift name.
        public let name: String
        /// The value.
        public let value: ConstantValue
        /// Documentation, in the spec's own words.
        public let doc: String
    }

    /// A status code carried on the `NATS/1.0` header line, rendered on `NATSStatusCode`.
    public struct StatusCode: Sendable, Equatable {
        /// lowerCamelCase Swift name.
        public let name: String
        /// The three-digit code.
        public let code: Int
        /// Documentation.
        public let doc: String
    }

    /// Which side of a connection sends an operation.
    public enum Sender: String, Sendable, Equatable, CaseIterable {
        /// Only the client sends it.
        case client
        /// Only the server sends it.
        case server
        /// Either side sends it.
        case both
    }

    /// One argument of an operation, in wire order.
    public struct Argument: Sendable, Equatable {
        /// The argument's name as written in the protocol documentation (`subject`, `#bytes`).
        public let name: String
        /// Whether the argument may be left out.
        public let isOptional: Bool
        /// Documentation.
        public let doc: String
    }

    /// A protocol operation, rendered as a case of `NATSOperation`.
    public struct Operation: Sendable, Equatable {
        /// lowerCamelCase Swift case name.
        public let name: String
        /// The operation's name on the wire (`PUB`, `+OK`).
        public let wire: String
        /// Who sends it.
        public let sender: Sender
        /// Arguments, in wire order.
        public let arguments: [Argument]
        /// Documentation.
        public let doc: String

        /// The wire syntax, like `PUB <subject> [reply-to] <#bytes>`.
        public var syntax: String {
            ([wire] + arguments.map { $0.isOptional ? "[\($0.name)]" : "<\($0.name)>" }).joined(separator: " ")
        }
    }

    /// The family name this spec is read for.
    public static let family = "nats.protocol"

    /// Constants, in spec order.
    public let constants: [Constant]
    /// Status codes, in spec order (ascending code).
    public let statusCodes: [StatusCode]
    /// Operations, in spec order.
    public let operations: [Operation]

    /// Reads and validates `document`.
    ///
    /// - Throws: ``SpecError`` naming the file and key of the first problem.
    public init(document: SpecDocument) throws(SpecError) {
        let body = try document.body(allowing: ["constants", "statusCodes", "operations"])

        var constants: [Constant] = []
        var constantNames = UniqueNames()
        for node in try body.required("constants").array() {
            let object = try node.object(allowedKeys: ["name", "type", "value", "doc"])
            let nameNode = try object.required("name")
            let name = try nameNode.lowerCamelCaseIdentifier()
            try constantNames.insert(name, at: nameNode, what: "constant name")
            let typeNode = try object.required("type")
            let valueNode = try object.required("value")
            let value: ConstantValue
            switch try typeNode.string() {
            case "int": value = .int(try valueNode.int())
            case "string": value = .string(try valueNode.string())
            case let other: throw typeNode.error("unknown constant type \"\(other)\"; use \"int\" or \"string\"")
            }
            constants.append(Constant(name: name, value: value, doc: try object.required("doc").text()))
        }

        var statusCodes: [StatusCode] = []
        var statusNames = UniqueNames()
        var codes = UniqueNames()
        for node in try body.required("statusCodes").array() {
            let object = try node.object(allowedKeys: ["name", "code", "doc"])
            let nameNode = try object.required("name")
            let name = try nameNode.lowerCamelCaseIdentifier()
            try statusNames.insert(name, at: nameNode, what: "status code name")
            let codeNode = try object.required("code")
            let code = try codeNode.int()
            guard (100...599).contains(code) else { throw codeNode.error("status code \(code) is outside 100...599") }
            try codes.insert(String(code), at: codeNode, what: "status code")
            if let previous = statusCodes.last, previous.code > code {
                throw codeNode.error("status codes must be listed in ascending order (\(code) follows \(previous.code))")
            }
            statusCodes.append(StatusCode(name: name, code: code, doc: try object.required("doc").text()))
        }

        var operations: [Operation] = []
        var operationNames = UniqueNames()
        var wireNames = UniqueNames()
        for node in try body.required("operations").array() {
            let object = try node.object(allowedKeys: ["name", "wire", "sender", "arguments", "doc"])
            let nameNode = try object.required("name")
            let name = try nameNode.lowerCamelCaseIdentifier()
            try operationNames.insert(name, at: nameNode, what: "operation name")
            let wireNode = try object.required("wire")
            let wire = try wireNode.string()
            guard Self.isWireName(wire) else {
                throw wireNode.error("\"\(wire)\" is not an operation name (uppercase letters, optionally after '+' or '-')")
            }
            try wireNames.insert(wire, at: wireNode, what: "wire name")
            let senderNode = try object.required("sender")
            let senderText = try senderNode.string()
            guard let sender = Sender(rawValue: senderText) else {
                throw senderNode.error("unknown sender \"\(senderText)\"; use \"client\", \"server\" or \"both\"")
            }
            var arguments: [Argument] = []
            var argumentNames = UniqueNames()
            for argumentNode in try object.required("arguments").array() {
                let argument = try argumentNode.object(allowedKeys: ["name", "optional", "doc"])
                let argumentNameNode = try argument.required("name")
                let argumentName = try argumentNameNode.string()
                guard Self.isArgumentName(argumentName) else {
                    throw argumentNameNode.error("\"\(argumentName)\" is not an argument name (lowercase letters, digits, '-' and '_', optionally after '#')")
                }
                try argumentNames.insert(argumentName, at: argumentNameNode, what: "argument name")
                arguments.append(Argument(
                    name: argumentName,
                    isOptional: try argument.optional("optional")?.bool() ?? false,
                    doc: try argument.required("doc").singleLineText()
                ))
            }
            operations.append(Operation(name: name, wire: wire, sender: sender, arguments: arguments, doc: try object.required("doc").text()))
        }
        guard !operations.isEmpty else {
            throw try body.required("operations").error("at least one operation is required")
        }

        self.constants = constants
        self.statusCodes = statusCodes
        self.operations = operations
    }

    private static func isWireName(_ name: String) -> Bool {
        var scalars = Substring(name).unicodeScalars
        if scalars.first == "+" || scalars.first == "-" { scalars = scalars.dropFirst() }
        return !scalars.isEmpty && scalars.allSatisfy { ("A"..."Z").contains($0) }
    }

    private static func isArgumentName(_ name: String) -> Bool {
        var scalars = Substring(name).unicodeScalars
        if scalars.first == "#" { scalars = scalars.dropFirst() }
        guard let first = scalars.first, ("a"..."z").contains(first) else { return false }
        return scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }
}
