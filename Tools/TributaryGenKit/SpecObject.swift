/// A JSON object in a spec file whose keys have been checked against an allowed list.
public struct SpecObject: Sendable {
    /// The object itself.
    public let node: SpecNode
    private let members: [(key: String, node: JSONNode)]

    init(node: SpecNode, members: [(key: String, node: JSONNode)]) {
        self.node = node
        self.members = members
    }

    /// The keys present, in file order.
    public var keys: [String] { members.map(\.key) }

    /// The value for `key`, or nil when the key is absent.
    public func optional(_ key: String) -> SpecNode? {
        guard let member = members.first(where: { $0.key == key }) else { return nil }
        return SpecNode(file: node.file, path: SpecPath.child(node.path, key), json: member.node)
    }

    /// The value for `key`; throws an error naming the missing key when it is absent.
    public func required(_ key: String) throws(SpecError) -> SpecNode {
        guard let value = optional(key) else {
            throw SpecError(
                file: node.file,
                key: SpecPath.child(node.path, key),
                line: node.line,
                message: "missing required key \"\(key)\""
            )
        }
        return value
    }
}
