/// The contents of `ProtocolSpecs/kafka/errors.json` (family `kafka.errors`), validated: every
/// Kafka error code with its name, retriable flag, description and hint.
public struct KafkaErrorsSpec: Sendable {
    /// One error code.
    public struct Entry: Sendable, Equatable {
        /// The numeric code sent in responses.
        public let code: Int
        /// Kafka's name (`UNKNOWN_TOPIC_OR_PARTITION`).
        public let name: String
        /// The Swift static member name (`unknownTopicOrPartition`).
        public let swiftName: String
        /// Whether the Java client treats the error as retriable.
        public let retriable: Bool
        /// What the error means.
        public let description: String
        /// What the user should do.
        public let hint: String
    }

    /// The family name this spec is read for.
    public static let family = "kafka.errors"
    /// Member names of the generated `KafkaErrorCode` that entries must not take.
    public static let reservedSwiftNames: Set<String> = [
        "none", "rawValue", "info", "name", "isRetriable", "isError", "summary", "hint", "description", "all", "hash", "hashValue",
    ]

    /// The entries in file order, which must be ascending by code.
    public let entries: [Entry]

    /// Reads and validates `document`.
    ///
    /// - Throws: ``SpecError`` for a missing key, a duplicate or out-of-order code or name, or a
    ///   name that does not make a usable Swift identifier.
    public init(document: SpecDocument) throws(SpecError) {
        let body = try document.body(allowing: ["errors"])
        let errorsNode = try body.required("errors")
        var entries: [Entry] = []
        var codes = UniqueNames()
        var names = UniqueNames()
        var swiftNames = UniqueNames()
        for node in try errorsNode.array() {
            let object = try node.object(allowedKeys: ["code", "name", "swiftName", "retriable", "description", "hint"])
            let codeNode = try object.required("code")
            let code = try codeNode.int()
            guard (Int(Int16.min)...Int(Int16.max)).contains(code) else { throw codeNode.error("code \(code) does not fit int16") }
            try codes.insert(String(code), at: codeNode, what: "error code")
            if let previous = entries.last, previous.code > code {
                throw codeNode.error("codes must be in ascending order; \(code) comes after \(previous.code)")
            }

            let nameNode = try object.required("name")
            let name = try nameNode.string()
            guard Self.isUpperSnakeCase(name) else {
                throw nameNode.error("\"\(name)\" is not an error name (uppercase letters, digits and underscores, like UNKNOWN_SERVER_ERROR)")
            }
            try names.insert(name, at: nameNode, what: "error name")

            var swiftName = KafkaNaming.errorName(name)
            var swiftNameNode = nameNode
            if let overrideNode = object.optional("swiftName") {
                swiftName = try overrideNode.lowerCamelCaseIdentifier()
                swiftNameNode = overrideNode
            }
            guard SwiftIdentifier.isLowerCamelCase(swiftName), !SwiftIdentifier.keywords.contains(swiftName) else {
                throw swiftNameNode.error("\"\(name)\" becomes \"\(swiftName)\", which is not a usable Swift name; add a \"swiftName\"")
            }
            guard !Self.reservedSwiftNames.contains(swiftName) else {
                throw swiftNameNode.error("\"\(swiftName)\" clashes with a member of KafkaErrorCode; add another \"swiftName\"")
            }
            try swiftNames.insert(swiftName, at: swiftNameNode, what: "Swift name")

            entries.append(Entry(
                code: code,
                name: name,
                swiftName: swiftName,
                retriable: try object.required("retriable").bool(),
                description: try object.required("description").singleLineText(),
                hint: try object.required("hint").singleLineText()
            ))
        }
        guard entries.contains(where: { $0.code == 0 }) else {
            throw errorsNode.error("code 0 (no error) must be listed")
        }
        self.entries = entries
    }

    static func isUpperSnakeCase(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("A"..."Z").contains(first), !name.hasSuffix("_"), !name.contains("__") else { return false }
        return name.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
