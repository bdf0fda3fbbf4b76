/// A value inside a spec file, together with where it came from.
///
/// Renderers read specs only through `SpecNode` and ``SpecObject``: every accessor checks the
/// JSON type and throws a ``SpecError`` naming the file, key path and line when it is wrong.
public struct SpecNode: Sendable {
    /// The spec file, relative to the specs root.
    public let file: String
    /// The key path of this value, like `errors[3].match`; empty for the document root.
    public let path: String
    /// The 1-based line this value starts on.
    public var line: Int { json.line }

    let json: JSONNode

    init(file: String, path: String, json: JSONNode) {
        self.file = file
        self.path = path
        self.json = json
    }

    /// An error about this value.
    public func error(_ message: String) -> SpecError {
        SpecError(file: file, key: path, line: line, message: message)
    }

    private func typeError(_ expected: String) -> SpecError {
        error("expected \(expected), found \(json.typeName)")
    }

    /// The value as a string (which may be empty).
    public func string() throws(SpecError) -> String {
        guard case .string(let value) = json.value else { throw typeError("a string") }
        return value
    }

    /// The value as a string that is not empty and has no leading or trailing whitespace.
    public func trimmedString() throws(SpecError) -> String {
        let value = try string()
        guard !value.isEmpty else { throw error("must not be empty") }
        guard value.first?.isWhitespace == false, value.last?.isWhitespace == false else {
            throw error("must not start or end with whitespace")
        }
        return value
    }

    /// The value as an integer (JSON numbers without fraction or exponent).
    public func int() throws(SpecError) -> Int {
        guard case .integer(let value) = json.value else { throw typeError("an integer") }
        return value
    }

    /// The value as a boolean.
    public func bool() throws(SpecError) -> Bool {
        guard case .bool(let value) = json.value else { throw typeError("true or false") }
        return value
    }

    /// The elements of an array, each with its own path (`errors[0]`, `errors[1]`, …).
    public func array() throws(SpecError) -> [SpecNode] {
        guard case .array(let elements) = json.value else { throw typeError("an array") }
        var nodes: [SpecNode] = []
        nodes.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            nodes.append(SpecNode(file: file, path: SpecPath.element(path, index), json: element))
        }
        return nodes
    }

    /// An array of trimmed strings (see ``trimmedString()``).
    public func stringArray() throws(SpecError) -> [String] {
        var strings: [String] = []
        for element in try array() {
            strings.append(try element.trimmedString())
        }
        return strings
    }

    /// Prose: a string, or an array of strings that are its lines.
    ///
    /// Lines are joined with `\n`; an empty line separates paragraphs. The text must not be
    /// empty and must not contain control characters other than line breaks.
    public func text() throws(SpecError) -> String {
        let joined: String
        switch json.value {
        case .string(let value):
            joined = value
        case .array(let elements):
            var lines: [String] = []
            for (index, element) in elements.enumerated() {
                let node = SpecNode(file: file, path: SpecPath.element(path, index), json: element)
                lines.append(try node.string())
            }
            joined = lines.joined(separator: "\n")
        default:
            throw typeError("a string or an array of strings")
        }
        guard joined.contains(where: { !$0.isWhitespace }) else { throw error("must not be empty") }
        if joined.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" || $0.value == 0x7F }) {
            throw error("must not contain control characters other than line breaks")
        }
        return joined
    }

    /// A single line of prose: like ``text()`` but without line breaks.
    public func singleLineText() throws(SpecError) -> String {
        let value = try text()
        guard !value.contains("\n") else { throw error("must be a single line") }
        return value
    }

    /// The value as a lowerCamelCase Swift identifier that is not a keyword (`authorizationViolation`).
    public func lowerCamelCaseIdentifier() throws(SpecError) -> String {
        let value = try string()
        guard SwiftIdentifier.isLowerCamelCase(value) else {
            throw error("\"\(value)\" is not lowerCamelCase (letters and digits, starting with a lowercase letter)")
        }
        guard !SwiftIdentifier.keywords.contains(value) else {
            throw error("\"\(value)\" is a Swift keyword; choose another name")
        }
        return value
    }

    /// The value as an object whose keys must all be in `allowedKeys`.
    ///
    /// An unknown key is an error (it is usually a typo), named by its full path.
    public func object(allowedKeys: [String]) throws(SpecError) -> SpecObject {
        guard case .object(let members) = json.value else { throw typeError("an object") }
        let allowed = Set(allowedKeys)
        for member in members where !allowed.contains(member.key) {
            throw SpecError(
                file: file,
                key: SpecPath.child(path, member.key),
                line: member.node.line,
                message: "unknown key \"\(member.key)\"; allowed keys: \(allowedKeys.sorted().joined(separator: ", "))"
            )
        }
        return SpecObject(node: self, members: members)
    }
}
