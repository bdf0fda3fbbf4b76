/// One Swift file produced by the generator.
public struct GeneratedFile: Sendable, Equatable {
    /// The path relative to the package root, like
    /// `Sources/TributaryNATSProtocol/Generated/NATSServerErrorTable.swift`.
    public let path: String
    /// The complete file contents, ending with a newline.
    public let contents: String

    /// Creates a generated file.
    public init(path: String, contents: String) {
        self.path = path
        self.contents = contents
    }
}
