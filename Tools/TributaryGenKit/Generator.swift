import Foundation

/// Loads the specs under `ProtocolSpecs/`, validates them and renders Swift into each
/// `Sources/<Module>/Generated/` directory.
///
/// Output is deterministic: spec files are read in path order, renderers emit members in spec
/// or sorted order, and nothing depends on time, locale or the location of the specs root.
public struct Generator: Sendable {
    /// The renderers `tributary-gen` runs: one per spec family.
    public static let standardRenderers: [any SpecRenderer] = [
        NATSProtocolRenderer(),
        NATSErrorsRenderer(),
        JetStreamAPIRenderer(),
        KafkaMessageRenderer(),
        KafkaErrorsRenderer(),
    ]

    /// The directory holding the spec files (the package's `ProtocolSpecs/`).
    public let specsRoot: URL
    /// The renderers to run; every spec file's family must be handled by one of them.
    public let renderers: [any SpecRenderer]

    /// Creates a generator reading specs from `specsRoot`.
    public init(specsRoot: URL, renderers: [any SpecRenderer] = Generator.standardRenderers) {
        self.specsRoot = specsRoot
        self.renderers = renderers
    }

    /// The package-relative `Generated/` directories the generator owns, sorted.
    public var ownedDirectories: [String] {
        Set(renderers.map(\.outputDirectory)).sorted()
    }

    /// The spec files under ``specsRoot`` (every `*.json`, recursively, hidden entries skipped),
    /// as paths relative to it, sorted.
    public func specPaths() throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: specsRoot.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw GeneratorError("specs directory \(specsRoot.path) does not exist; run tributary-gen from the package root or pass it as an argument")
        }
        var paths: [String] = []
        try collectJSONFiles(in: specsRoot, relativePath: "", into: &paths)
        return paths.sorted()
    }

    private func collectJSONFiles(in directory: URL, relativePath: String, into paths: inout [String]) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw GeneratorError("cannot list \(directory.path): \(error.localizedDescription)")
        }
        for name in names.sorted() where !name.hasPrefix(".") {
            let url = directory.appendingPathComponent(name)
            let path = relativePath.isEmpty ? name : "\(relativePath)/\(name)"
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                try collectJSONFiles(in: url, relativePath: path, into: &paths)
            } else if name.hasSuffix(".json") {
                paths.append(path)
            }
        }
    }

    /// Loads and parses every spec file, checking the keys common to all families.
    public func loadSpecs() throws -> [SpecDocument] {
        var documents: [SpecDocument] = []
        for path in try specPaths() {
            let url = path.split(separator: "/").reduce(specsRoot) { $0.appendingPathComponent(String($1)) }
            documents.append(try SpecDocument(contentsOf: url, path: path))
        }
        return documents
    }

    /// Validates every spec and renders every generated file, sorted by path.
    ///
    /// - Throws: ``SpecError`` naming the file and key of a spec problem, or ``GeneratorError``.
    public func generatedFiles() throws -> [GeneratedFile] {
        let documents = try loadSpecs()
        let families = Set(renderers.map(\.family))
        guard families.count == renderers.count else {
            throw GeneratorError("two renderers claim the same spec family")
        }
        for document in documents where !families.contains(document.family) {
            throw SpecError(file: document.path, key: "family", line: document.familyLine, message: "no renderer handles family \"\(document.family)\"; known families: \(families.sorted().joined(separator: ", "))")
        }

        var files: [GeneratedFile] = []
        var seen: Set<String> = []
        for renderer in renderers.sorted(by: { $0.family < $1.family }) {
            let input = documents.filter { $0.family == renderer.family }
            for file in try renderer.render(input) {
                let prefix = renderer.outputDirectory + "/"
                let name = file.path.hasPrefix(prefix) ? String(file.path.dropFirst(prefix.count)) : ""
                guard !name.isEmpty, !name.contains("/"), name.hasSuffix(".swift") else {
                    throw GeneratorError("renderer for \(renderer.family) produced \(file.path), which is not a .swift file directly inside \(renderer.outputDirectory)")
                }
                guard seen.insert(file.path).inserted else {
                    throw GeneratorError("two renderers produced \(file.path)")
                }
                files.append(file)
            }
        }
        return files.sorted { $0.path < $1.path }
    }

    /// Checks every spec without writing anything.
    ///
    /// - Throws: ``SpecError`` naming the file and key of the first problem found.
    public func validate() throws {
        _ = try generatedFiles()
    }

    /// Renders every generated file: package-relative output path → contents.
    public func render() throws -> [String: String] {
        var result: [String: String] = [:]
        for file in try generatedFiles() {
            result[file.path] = file.contents
        }
        return result
    }

    /// Compares the generated files with those under `packageRoot` without changing anything.
    public func plan(for packageRoot: URL) throws -> GenerationReport {
        try plan(files: generatedFiles(), packageRoot: packageRoot)
    }

    private func plan(files: [GeneratedFile], packageRoot: URL) throws -> GenerationReport {
        var report = GenerationReport()
        let produced = Set(files.map(\.path))
        for file in files {
            let existing = try? Data(contentsOf: url(for: file.path, in: packageRoot))
            if existing == Data(file.contents.utf8) {
                report.unchanged.append(file.path)
            } else {
                report.written.append(file.path)
            }
        }
        for directory in ownedDirectories {
            let directoryURL = url(for: directory, in: packageRoot)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directoryURL.path) else { continue }
            for name in names.sorted() where name.hasSuffix(".swift") {
                let path = "\(directory)/\(name)"
                if !produced.contains(path) { report.deleted.append(path) }
            }
        }
        report.written.sort()
        report.unchanged.sort()
        report.deleted.sort()
        return report
    }

    /// Writes every generated file under `packageRoot` and deletes stale `.swift` files in the
    /// owned `Generated/` directories.
    ///
    /// Files whose contents already match are not rewritten, so their modification times (and
    /// incremental builds) are left alone. Nothing is written when any spec is invalid.
    @discardableResult
    public func write(to packageRoot: URL) throws -> GenerationReport {
        let files = try generatedFiles()
        let report = try plan(files: files, packageRoot: packageRoot)
        let contents = Dictionary(uniqueKeysWithValues: files.map { ($0.path, $0.contents) })
        do {
            for directory in ownedDirectories {
                try FileManager.default.createDirectory(at: url(for: directory, in: packageRoot), withIntermediateDirectories: true)
            }
            for path in report.written {
                try Data((contents[path] ?? "").utf8).write(to: url(for: path, in: packageRoot), options: .atomic)
            }
            for path in report.deleted {
                try FileManager.default.removeItem(at: url(for: path, in: packageRoot))
            }
        } catch {
            throw GeneratorError("cannot update generated files under \(packageRoot.path): \(error.localizedDescription)")
        }
        return report
    }

    private func url(for relativePath: String, in packageRoot: URL) -> URL {
        relativePath.split(separator: "/").reduce(packageRoot) { $0.appendingPathComponent(String($1)) }
    }
}
