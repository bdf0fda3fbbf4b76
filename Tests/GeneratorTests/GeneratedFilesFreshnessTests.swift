import Foundation
import Testing
import TributaryGenKit

/// The committed `Sources/*/Generated/` files are exactly what the generator produces today.
@Suite("Committed generated files are fresh")
struct GeneratedFilesFreshnessTests {
    @Test("regenerating into a temporary directory reproduces every committed file byte for byte")
    func committedFilesMatchRegeneration() throws {
        let packageRoot = try GeneratorTestSupport.packageRoot()
        let temporary = try GeneratorTestSupport.makeTemporaryDirectory()
        defer { GeneratorTestSupport.removeTemporaryDirectory(temporary) }

        try Generator(specsRoot: packageRoot.appendingPathComponent("ProtocolSpecs")).write(to: temporary)
        let regenerated = try GeneratorTestSupport.generatedDirectoryContents(under: temporary)
        let committed = try GeneratorTestSupport.generatedDirectoryContents(under: packageRoot)
        #expect(!regenerated.isEmpty, "the generator produced no files")

        let missing = regenerated.keys.filter { committed[$0] == nil }.sorted()
        let different = regenerated.keys.filter { committed[$0] != nil && committed[$0] != regenerated[$0] }.sorted()
        #expect(missing.isEmpty, "generated files are not committed: \(missing.joined(separator: ", ")); run `swift run tributary-gen` from the package root")
        #expect(different.isEmpty, "committed generated files differ from the specs: \(different.joined(separator: ", ")); run `swift run tributary-gen` from the package root (never edit Generated/ by hand)")
    }

    @Test("every committed file in a Generated/ directory is produced by the generator")
    func noUnownedFilesInGeneratedDirectories() throws {
        let packageRoot = try GeneratorTestSupport.packageRoot()
        let produced = Set(try Generator(specsRoot: packageRoot.appendingPathComponent("ProtocolSpecs")).render().keys)
        let committed = try GeneratorTestSupport.generatedDirectoryContents(under: packageRoot)
        let unowned = committed.keys.filter { !produced.contains($0) }.sorted()
        #expect(unowned.isEmpty, "files in Generated/ that no spec produces: \(unowned.joined(separator: ", ")); run `swift run tributary-gen` to delete stale ones, and move hand-written code outside Generated/")
    }

    @Test("the committed files report as up to date through Generator.plan")
    func planReportsUpToDate() throws {
        let packageRoot = try GeneratorTestSupport.packageRoot()
        let report = try Generator(specsRoot: packageRoot.appendingPathComponent("ProtocolSpecs")).plan(for: packageRoot)
        #expect(report.isUpToDate, "out of date: \(report.written), stale: \(report.deleted); run `swift run tributary-gen`")
        #expect(!report.unchanged.isEmpty)
    }
}

/// Properties of the generator's output that do not depend on the committed files.
@Suite("Generator output")
struct GeneratorOutputTests {
    @Test("the NATS specs produce the two files TributaryNATSProtocol relies on")
    func producesExpectedFiles() throws {
        let files = try Generator(specsRoot: GeneratorTestSupport.specsRoot()).render()
        let natsFiles = files.keys.filter { $0.hasPrefix("Sources/TributaryNATSProtocol/") }.sorted()
        #expect(natsFiles == [
            "Sources/TributaryNATSProtocol/Generated/NATSProtocolConstants.swift",
            "Sources/TributaryNATSProtocol/Generated/NATSServerErrorTable.swift",
        ])
    }

    @Test("the Kafka specs produce one file per API plus the API-key and error-code tables, all covered by the freshness test")
    func producesKafkaFiles() throws {
        let generator = Generator(specsRoot: try GeneratorTestSupport.specsRoot())
        let files = try generator.render()
        let kafkaFiles = files.keys.filter { $0.hasPrefix("Sources/TributaryKafkaProtocol/Generated/") }.sorted()
        let apis = try generator.specPaths().filter { $0.hasPrefix("kafka/messages/") }.map { path in
            String(path.dropFirst("kafka/messages/NNN-".count).dropLast(".json".count))
        }
        #expect(apis.count == 26, "spec files: \(apis)")
        let expected = (apis.map { "Sources/TributaryKafkaProtocol/Generated/\($0).swift" } + [
            "Sources/TributaryKafkaProtocol/Generated/KafkaAPIKey.swift",
            "Sources/TributaryKafkaProtocol/Generated/KafkaErrorCode.swift",
        ]).sorted()
        #expect(kafkaFiles == expected)
        #expect(generator.ownedDirectories.contains("Sources/TributaryKafkaProtocol/Generated"))
        let committed = try GeneratorTestSupport.generatedDirectoryContents(under: GeneratorTestSupport.packageRoot())
        for path in expected {
            #expect(committed[path] != nil, "\(path) is not committed; run `swift run tributary-gen`")
        }
    }

    @Test("every generated file starts with a header naming the generator and spec and saying do not edit")
    func headers() throws {
        let generator = Generator(specsRoot: try GeneratorTestSupport.specsRoot())
        let specPaths = Set(try generator.specPaths())
        let files = try generator.render()
        #expect(files["Sources/TributaryNATSProtocol/Generated/NATSServerErrorTable.swift"]?
            .hasPrefix("// Generated by tributary-gen (Tools/TributaryGenKit) from ProtocolSpecs/nats/errors.json.\n") == true)
        #expect(files["Sources/TributaryNATSProtocol/Generated/NATSProtocolConstants.swift"]?
            .hasPrefix("// Generated by tributary-gen (Tools/TributaryGenKit) from ProtocolSpecs/nats/protocol.json.\n") == true)
        for (path, contents) in files {
            let lines = contents.split(separator: "\n", omittingEmptySubsequences: false)
            let firstLine = try #require(lines.first)
            let prefix = "// Generated by tributary-gen (Tools/TributaryGenKit) from ProtocolSpecs/"
            #expect(firstLine.hasPrefix(prefix) && firstLine.hasSuffix(".json."), "\(path) starts with \(firstLine)")
            let spec = String(firstLine.dropFirst(prefix.count).dropLast())
            if let star = spec.firstIndex(of: "*") {
                // Cross-file output names the pattern of the spec files it is built from.
                let (head, tail) = (spec[..<star], spec[spec.index(after: star)...])
                #expect(specPaths.contains { $0.hasPrefix(head) && $0.hasSuffix(tail) }, "\(path) header names \(spec), which matches no spec file")
            } else {
                #expect(specPaths.contains(spec), "\(path) header names \(spec), which is not a spec file")
            }
            let header = lines.prefix(3).joined(separator: "\n")
            #expect(header.contains("Do not edit"), "\(path) header lacks \"Do not edit\"")
            #expect(lines.count > 1 && lines[1].hasPrefix("// Source: "), "\(path) header lacks provenance")
            #expect(contents.hasSuffix("}\n") && !contents.hasSuffix("\n\n"), "\(path) must end with exactly one newline")
            #expect(!contents.contains("\r"), "\(path) contains a carriage return; the generator writes \\n line endings")
            #expect(!contents.split(separator: "\n", omittingEmptySubsequences: false).contains { $0.last == " " }, "\(path) has trailing spaces")
        }
    }

    @Test("output is deterministic and does not depend on where the specs live")
    func deterministic() throws {
        let specsRoot = try GeneratorTestSupport.specsRoot()
        let first = try Generator(specsRoot: specsRoot).render()
        let second = try Generator(specsRoot: specsRoot).render()
        #expect(first == second)

        let temporary = try GeneratorTestSupport.makeTemporaryDirectory()
        defer { GeneratorTestSupport.removeTemporaryDirectory(temporary) }
        let copy = temporary.appendingPathComponent("elsewhere-specs")
        try FileManager.default.copyItem(at: specsRoot, to: copy)
        #expect(try Generator(specsRoot: copy).render() == first)
    }

    @Test("write creates files, rewrites only changed ones and deletes stale .swift files it owns")
    func writeManagesGeneratedDirectory() throws {
        let temporary = try GeneratorTestSupport.makeTemporaryDirectory()
        defer { GeneratorTestSupport.removeTemporaryDirectory(temporary) }
        let generator = Generator(specsRoot: try GeneratorTestSupport.specsRoot())
        let generated = "Sources/TributaryNATSProtocol/Generated"

        let first = try generator.write(to: temporary)
        #expect(first.written.filter { $0.hasPrefix(generated) } == [
            "\(generated)/NATSProtocolConstants.swift",
            "\(generated)/NATSServerErrorTable.swift",
        ])
        #expect(first.written.contains("Sources/TributaryKafkaProtocol/Generated/KafkaAPIKey.swift"))
        #expect(first.deleted.isEmpty)

        try GeneratorTestSupport.write("// stale\n", to: "\(generated)/Removed.swift", under: temporary)
        try GeneratorTestSupport.write("notes\n", to: "\(generated)/README.txt", under: temporary)
        try GeneratorTestSupport.write("// edited by hand\n", to: "\(generated)/NATSServerErrorTable.swift", under: temporary)
        try GeneratorTestSupport.write("// not owned\n", to: "Sources/Other/Generated/Keep.swift", under: temporary)

        let second = try generator.write(to: temporary)
        #expect(second.deleted == ["\(generated)/Removed.swift"])
        #expect(second.written == ["\(generated)/NATSServerErrorTable.swift"])
        #expect(second.unchanged.filter { $0.hasPrefix(generated) } == ["\(generated)/NATSProtocolConstants.swift"])
        #expect(second.unchanged.count == first.written.count - 1)
        let fileManager = FileManager.default
        #expect(!fileManager.fileExists(atPath: temporary.appendingPathComponent("\(generated)/Removed.swift").path))
        #expect(fileManager.fileExists(atPath: temporary.appendingPathComponent("\(generated)/README.txt").path), "only .swift files are deleted")
        #expect(fileManager.fileExists(atPath: temporary.appendingPathComponent("Sources/Other/Generated/Keep.swift").path), "directories no renderer owns are left alone")

        let third = try generator.write(to: temporary)
        #expect(third.isUpToDate)
        #expect(third.unchanged.count == first.written.count)
    }

    @Test("nothing is written when a spec is invalid")
    func invalidSpecWritesNothing() throws {
        let temporary = try GeneratorTestSupport.makeTemporaryDirectory()
        defer { GeneratorTestSupport.removeTemporaryDirectory(temporary) }
        let specs = temporary.appendingPathComponent("specs")
        let package = temporary.appendingPathComponent("package")
        try MiniSpecs.write(under: specs, changing: "nats/errors.json", replacing: #""hint": "Read the log.""#, with: #""hint": """#)
        try GeneratorTestSupport.write("// keep me\n", to: "Sources/TributaryNATSProtocol/Generated/Old.swift", under: package)

        #expect(throws: SpecError.self) { try Generator(specsRoot: specs).write(to: package) }
        #expect(FileManager.default.fileExists(atPath: package.appendingPathComponent("Sources/TributaryNATSProtocol/Generated/Old.swift").path))
        #expect(!FileManager.default.fileExists(atPath: package.appendingPathComponent("Sources/TributaryNATSProtocol/Generated/NATSServerErrorTable.swift").path))
    }
}
