/// Rules for names that become Swift identifiers.
public enum SwiftIdentifier {
    /// Whether `name` is lowerCamelCase: an ASCII lowercase letter, then ASCII letters and digits.
    public static func isLowerCamelCase(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
    }

    /// Words that cannot be used as plain identifiers (they would need backticks), plus a few
    /// that would read badly as member names.
    public static let keywords: Set<String> = [
        "associatedtype", "borrowing", "class", "consuming", "deinit", "enum", "extension", "fileprivate",
        "func", "import", "init", "inout", "internal", "let", "nonisolated", "open", "operator", "private",
        "precedencegroup", "protocol", "public", "rethrows", "static", "struct", "subscript", "typealias",
        "var", "break", "case", "catch", "continue", "default", "defer", "do", "else", "fallthrough", "for",
        "guard", "if", "in", "repeat", "return", "throw", "switch", "where", "while", "any", "as", "await",
        "false", "is", "nil", "self", "super", "throws", "true", "try", "some", "async", "package",
    ]
}
