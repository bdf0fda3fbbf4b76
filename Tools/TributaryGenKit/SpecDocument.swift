import Foundation

/// Where a spec file's facts come from. Every spec file must say (see `ProtocolSpecs/README.md`).
public struct SpecSource: Sendable, Equatable {
    /// The document or protocol described, e.g. "NATS client protocol".
    public let title: String
    /// The upstream project the facts were checked against, e.g. "nats-server".
    public let upstream: String
    /// The upstream version (release tag) the facts were checked against, e.g. "v2.14.5".
    public let version: String
    /// Where to look: documentation URLs and upstream source files.
    public let references: [String]

    /// "title, upstream version", as printed in generated file headers.
    public var summary: String { "\(title), \(upstream) \(version)" }
}

/// One parsed spec file: its family, provenance and body.
///
/// The keys every spec file has (`family`, `source`, `notes`) are checked here; the rest of the
/// body belongs to the family's renderer, which reads it with ``body(allowing:)``.
public struct SpecDocument: Sendable {
    /// Keys that every spec file may use, whatever its family.
    public static let commonKeys = ["family", "source", "notes"]

    /// The file's path relative to the specs root, with `/` separators (`nats/errors.json`).
    public let path: String
    /// The spec family, which selects the renderer (`nats.protocol`, `nats.errors`).
    public let family: String
    /// The line of the `family` key's value, for errors about it.
    public let familyLine: Int
    /// Provenance of the facts in this file.
    public let source: SpecSource
    /// Maintainer notes; they are not rendered.
    public let notes: [String]
    /// The document's root value.
    public let root: SpecNode

    /// Parses `data` as the spec file at `path` (relative to the specs root).
    ///
    /// - Throws: ``SpecError`` for invalid JSON or a missing or malformed `family` or `source`.
    public init(path: String, data: Data) throws(SpecError) {
        let json = try JSONParser.parse(data, file: path)
        let root = SpecNode(file: path, path: "", json: json)
        guard case .object(let members) = json.value else {
            throw root.error("a spec file must contain one JSON object, found \(json.typeName)")
        }
        // Unknown keys are not checked here: the family's renderer knows the full key set and
        // checks it with body(allowing:).
        let object = SpecObject(node: root, members: members)

        let familyNode = try object.required("family")
        let family = try familyNode.string()
        guard Self.isFamilyName(family) else {
            throw familyNode.error("\"\(family)\" is not a family name (lowercase words separated by dots, like \"nats.errors\")")
        }

        let sourceObject = try object.required("source").object(allowedKeys: ["title", "upstream", "version", "references"])
        let references = try sourceObject.optional("references")?.stringArray() ?? []
        let source = SpecSource(
            title: try sourceObject.required("title").trimmedString(),
            upstream: try sourceObject.required("upstream").trimmedString(),
            version: try sourceObject.required("version").trimmedString(),
            references: references
        )

        var notes: [String] = []
        if let notesNode = object.optional("notes") {
            notes = try notesNode.stringArray()
        }

        self.path = path
        self.family = family
        self.familyLine = familyNode.line
        self.source = source
        self.notes = notes
        self.root = root
    }

    /// Reads and parses the spec file at `url`, recording it as `path`.
    public init(contentsOf url: URL, path: String) throws(SpecError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SpecError(file: path, key: "", message: "cannot read file: \(error.localizedDescription)")
        }
        try self.init(path: path, data: data)
    }

    /// The root object, checked to contain only the common keys and `keys`.
    public func body(allowing keys: [String]) throws(SpecError) -> SpecObject {
        try root.object(allowedKeys: Self.commonKeys + keys)
    }

    private static func isFamilyName(_ name: String) -> Bool {
        let words = name.split(separator: ".", omittingEmptySubsequences: false)
        return !words.isEmpty && words.allSatisfy { word in
            !word.isEmpty && word.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        }
    }
}
