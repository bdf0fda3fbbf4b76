/// Tracks names that must be unique within a list and reports the second occurrence.
struct UniqueNames {
    private var lines: [String: Int] = [:]

    mutating func insert(_ name: String, at node: SpecNode, what: String) throws(SpecError) {
        if let firstLine = lines[name] {
            throw node.error("duplicate \(what) \"\(name)\" (first used on line \(firstLine))")
        }
        lines[name] = node.line
    }
}
