import Foundation
import TributaryGenKit

/// Paths and temporary directories shared by the generator tests.
enum GeneratorTestSupport {
    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    /// The package root: the nearest directory above this file that holds both `Package.swift`
    /// and `ProtocolSpecs/`.
    ///
    /// Symlinks are resolved first, so the tests also work when compiled through a scratch
    /// package whose target directories are symlinks into the real package.
    static func packageRoot(filePath: String = #filePath) throws -> URL {
        let file = URL(fileURLWithPath: filePath)
        for start in [file.resolvingSymlinksInPath(), file] {
            var directory = start.deletingLastPathComponent()
            while directory.path != "/" && !directory.path.isEmpty {
                var isDirectory: ObjCBool = false
                let specs = directory.appendingPathComponent("ProtocolSpecs").path
                if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path),
                   FileManager.default.fileExists(atPath: specs, isDirectory: &isDirectory), isDirectory.boolValue {
                    return directory
                }
                directory = directory.deletingLastPathComponent()
            }
        }
        throw SetupError(description: "no directory with Package.swift and ProtocolSpecs/ above \(filePath)")
    }

    /// The package's `ProtocolSpecs/` directory.
    static func specsRoot() throws -> URL {
        try packageRoot().appendingPathComponent("ProtocolSpecs", isDirectory: true)
    }

    /// A new empty directory; the caller removes it with ``removeTemporaryDirectory(_:)``.
    static func makeTemporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("tributary-gen-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func removeTemporaryDirectory(_ url: URL) {
        try? FileManager.default.removeItem(at: url)
    }

    /// Writes `text` to `relativePath` under `root`, creating directories as needed.
    static func write(_ text: String, to relativePath: String, under root: URL) throws {
        let url = root.appendingPathComponent(relativePath)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    /// Every regular file in each `Sources/*/Generated/` directory under `root`:
    /// package-relative path → contents.
    static func generatedDirectoryContents(under root: URL) throws -> [String: Data] {
        var result: [String: Data] = [:]
        let sources = root.appendingPathComponent("Sources", isDirectory: true)
        guard let modules = try? FileManager.default.contentsOfDirectory(atPath: sources.path) else { return [:] }
        for module in modules.sorted() {
            let generated = sources.appendingPathComponent(module).appendingPathComponent("Generated")
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: generated.path) else { continue }
            for name in names.sorted() {
                var isDirectory: ObjCBool = false
                let url = generated.appendingPathComponent(name)
                guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { continue }
                let path = "Sources/\(module)/Generated/\(name)"
                if isDirectory.boolValue {
                    // A directory does not belong in Generated/; report it like a stray file.
                    result[path + "/"] = Data()
                } else {
                    result[path] = try Data(contentsOf: url)
                }
            }
        }
        return result
    }

    /// Parses a committed spec file with Foundation's JSON parser, independently of the
    /// generator's own parser.
    static func foundationJSON(_ relativePath: String) throws -> [String: Any] {
        let data = try Data(contentsOf: specsRoot().appendingPathComponent(relativePath))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SetupError(description: "\(relativePath) is not a JSON object")
        }
        return object
    }
}

/// Small, valid specs of each family, used by renderer and validation tests.
enum MiniSpecs {
    static let protocolSpec = #"""
        {
          "family": "nats.protocol",
          "source": { "title": "Test protocol", "upstream": "test-server", "version": "v0.0.1" },
          "constants": [
            { "name": "defaultPort", "type": "int", "value": 4222, "doc": "The port." },
            { "name": "lineEnd", "type": "string", "value": "\r\n", "doc": ["Ends \"lines\".", "", "Second paragraph."] }
          ],
          "statusCodes": [
            { "name": "noResponders", "code": 503, "doc": "Nobody listens." }
          ],
          "operations": [
            {
              "name": "pub", "wire": "PUB", "sender": "client",
              "arguments": [
                { "name": "subject", "doc": "Where to." },
                { "name": "reply-to", "optional": true, "doc": "Where replies go." }
              ],
              "doc": "Publishes."
            },
            { "name": "ping", "wire": "PING", "sender": "both", "arguments": [], "doc": "Pings." },
            { "name": "ok", "wire": "+OK", "sender": "server", "arguments": [], "doc": "Acknowledges." }
          ]
        }
        """#

    static let errorsSpec = #"""
        {
          "family": "nats.errors",
          "source": { "title": "Test protocol", "upstream": "test-server", "version": "v0.0.1" },
          "unknown": { "doc": "Not recognised.", "closesConnection": true, "hint": "Read the log." },
          "errors": [
            {
              "kind": "permissionsViolation", "match": "permissions violation", "closesConnection": false,
              "doc": "Not allowed.", "hint": "Ask for \"permission\".",
              "examples": ["Permissions Violation for Subscription to \"a\""], "origin": "test"
            },
            {
              "kind": "publishViolation", "match": "permissions violation for publish", "closesConnection": true,
              "doc": "Publishing not allowed.", "hint": "Publish elsewhere.",
              "examples": ["Permissions Violation for Publish to \"a\""], "origin": "test"
            }
          ]
        }
        """#

    /// Writes both mini specs under `root` (`nats/protocol.json`, `nats/errors.json`), after
    /// applying `replace` to the one at `file`.
    static func write(under root: URL, changing file: String? = nil, replacing old: String = "", with new: String = "") throws {
        var protocolText = protocolSpec
        var errorsText = errorsSpec
        if file == "nats/protocol.json" {
            guard protocolText.contains(old) else { throw GeneratorTestSupport.SetupError(description: "mini protocol spec lacks \(old)") }
            protocolText = protocolText.replacingOccurrences(of: old, with: new)
        } else if file == "nats/errors.json" {
            guard errorsText.contains(old) else { throw GeneratorTestSupport.SetupError(description: "mini errors spec lacks \(old)") }
            errorsText = errorsText.replacingOccurrences(of: old, with: new)
        }
        try GeneratorTestSupport.write(protocolText, to: "nats/protocol.json", under: root)
        try GeneratorTestSupport.write(errorsText, to: "nats/errors.json", under: root)
    }
}
