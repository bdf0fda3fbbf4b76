/// Turns every spec file of one family into Swift.
///
/// Adding a spec family (for example `kafka.message` for `ProtocolSpecs/kafka/messages/*.json`)
/// means writing one type that conforms to this protocol and adding it to
/// ``Generator/standardRenderers``; loading, validation of the common keys, stale-file cleanup
/// and the freshness test come for free.
public protocol SpecRenderer: Sendable {
    /// The `family` value of the spec files this renderer handles, e.g. `nats.errors`.
    var family: String { get }

    /// The package-relative `Generated/` directory this renderer writes into. The generator owns
    /// it: `.swift` files in it that no renderer produces are deleted by ``Generator/write(to:)``.
    var outputDirectory: String { get }

    /// Validates the spec files of this family (sorted by path; possibly none) and renders them.
    ///
    /// - Returns: the files to write; their paths must lie inside ``outputDirectory``.
    /// - Throws: ``SpecError`` naming the file and key of the first problem found.
    func render(_ documents: [SpecDocument]) throws(SpecError) -> [GeneratedFile]
}

extension SpecRenderer {
    /// The single document of this family; families with exactly one spec file use this.
    func singleDocument(_ documents: [SpecDocument], expectedPath: String) throws(SpecError) -> SpecDocument {
        guard let first = documents.first else {
            throw SpecError(file: expectedPath, key: "", message: "no spec file with family \"\(family)\" was found; expected one at \(expectedPath)")
        }
        guard documents.count == 1 else {
            let paths = documents.map(\.path).joined(separator: ", ")
            throw SpecError(file: documents[1].path, key: "family", line: documents[1].root.line,
                            message: "family \"\(family)\" allows one spec file, found \(documents.count): \(paths)")
        }
        return first
    }
}
