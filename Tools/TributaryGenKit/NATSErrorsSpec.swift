/// The contents of `ProtocolSpecs/nats/errors.json` (family `nats.errors`), validated.
///
/// Classification rule (mirrored by the generated `NATSServerErrorTable.classify`): strip
/// surrounding whitespace and one pair of surrounding single quotes from the `-ERR` text,
/// lowercase it, and pick the rule with the **longest** `match` that is a prefix of it. The
/// order of entries in the file therefore does not matter.
public struct NATSErrorsSpec: Sendable, Equatable {
    /// One `-ERR` text the server sends.
    public struct Rule: Sendable, Equatable {
        /// lowerCamelCase kind name; becomes a static member of `NATSServerErrorKind`.
        public let kind: String
        /// Lowercase prefix of the normalized `-ERR` text.
        public let match: String
        /// Whether the server closes the connection after sending the error.
        public let closesConnection: Bool
        /// One line telling the user what to do.
        public let hint: String
        /// Documentation: what the error means and when the server sends it.
        public let doc: String
        /// Texts as the server sends them (without the surrounding quotes); each must classify
        /// as this rule.
        public let examples: [String]
        /// Where the text comes from in the upstream source or documentation.
        public let origin: String
    }

    /// What to report for an `-ERR` text no rule matches.
    public struct Fallback: Sendable, Equatable {
        /// Documentation of the `unknown` kind.
        public let doc: String
        /// Whether to assume the server closes the connection.
        public let closesConnection: Bool
        /// One line telling the user what to do.
        public let hint: String
    }

    /// The family name this spec is read for.
    public static let family = "nats.errors"
    /// Kind names that would clash with members of the generated `NATSServerErrorKind`.
    public static let reservedKinds: Set<String> = ["unknown", "name", "description", "hashValue", "hash"]

    /// Rules in spec order.
    public let rules: [Rule]
    /// The fallback for unmatched texts.
    public let unknown: Fallback

    /// Reads and validates `document`.
    ///
    /// - Throws: ``SpecError`` naming the file and key of the first problem, including an
    ///   example that classifies as a different rule than the one listing it.
    public init(document: SpecDocument) throws(SpecError) {
        let body = try document.body(allowing: ["unknown", "errors"])

        let unknownObject = try body.required("unknown").object(allowedKeys: ["doc", "closesConnection", "hint"])
        let unknown = Fallback(
            doc: try unknownObject.required("doc").text(),
            closesConnection: try unknownObject.required("closesConnection").bool(),
            hint: try unknownObject.required("hint").singleLineText()
        )

        var rules: [Rule] = []
        var exampleNodes: [[SpecNode]] = []
        var kinds = UniqueNames()
        var matches = UniqueNames()
        let errorsNode = try body.required("errors")
        for node in try errorsNode.array() {
            let object = try node.object(allowedKeys: ["kind", "match", "closesConnection", "hint", "doc", "examples", "origin"])
            let kindNode = try object.required("kind")
            let kind = try kindNode.lowerCamelCaseIdentifier()
            guard !Self.reservedKinds.contains(kind) else {
                throw kindNode.error("\"\(kind)\" is reserved; choose another kind name")
            }
            try kinds.insert(kind, at: kindNode, what: "error kind")

            let matchNode = try object.required("match")
            let match = try matchNode.trimmedString()
            guard match == match.lowercased() else {
                throw matchNode.error("\"\(match)\" must be lowercase (write \"\(match.lowercased())\")")
            }
            guard match.first != "'" else {
                throw matchNode.error("must not start with a quote; texts are matched with surrounding quotes stripped")
            }
            try matches.insert(match, at: matchNode, what: "match text")

            let examplesNode = try object.required("examples")
            let examples = try examplesNode.array()
            guard !examples.isEmpty else { throw examplesNode.error("list at least one text the server sends") }
            var exampleTexts: [String] = []
            for example in examples {
                exampleTexts.append(try example.trimmedString())
            }

            rules.append(Rule(
                kind: kind,
                match: match,
                closesConnection: try object.required("closesConnection").bool(),
                hint: try object.required("hint").singleLineText(),
                doc: try object.required("doc").text(),
                examples: exampleTexts,
                origin: try object.required("origin").trimmedString()
            ))
            exampleNodes.append(examples)
        }
        guard !rules.isEmpty else { throw errorsNode.error("at least one error is required") }

        self.rules = rules
        self.unknown = unknown

        // Every example must land on its own rule under the longest-prefix rule.
        for (rule, nodes) in zip(rules, exampleNodes) {
            for (example, node) in zip(rule.examples, nodes) {
                let found = classify(example)
                guard found?.kind == rule.kind else {
                    throw node.error("\"\(example)\" classifies as \(found?.kind ?? "unknown"), not \(rule.kind); fix the match texts")
                }
            }
        }
    }

    /// The `-ERR` text as rules see it: surrounding whitespace and one pair of surrounding
    /// single quotes removed, lowercased.
    public static func normalize(_ text: String) -> String {
        var slice = Substring(text)
        trimWhitespace(&slice)
        if slice.first == "'" { slice.removeFirst() }
        if slice.last == "'" { slice.removeLast() }
        trimWhitespace(&slice)
        return slice.lowercased()
    }

    private static func trimWhitespace(_ slice: inout Substring) {
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
    }

    /// The rule with the longest `match` that prefixes the normalized `text`, or nil.
    public func classify(_ text: String) -> Rule? {
        let normalized = Self.normalize(text)
        var best: Rule?
        for rule in rules where normalized.hasPrefix(rule.match) {
            if let current = best, current.match.count >= rule.match.count { continue }
            best = rule
        }
        return best
    }
}
