// tributary-gen: rewrites every Sources/*/Generated/ directory from ProtocolSpecs/.
//
// Usage: swift run tributary-gen [--check] [package-root]
// The package root defaults to the nearest directory, from the current one upwards, that holds
// both Package.swift and ProtocolSpecs/. All logic lives in TributaryGenKit.

import Foundation
import TributaryGenKit

let usage = """
    usage: tributary-gen [--check] [package-root]

    Regenerates Sources/*/Generated/ from ProtocolSpecs/ (see ProtocolSpecs/README.md).
      --check   write nothing; exit 1 if any generated file is missing, different or stale
    """

func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("tributary-gen: \(message)\n".utf8))
    exit(code)
}

/// The nearest directory at or above `start` that contains Package.swift and ProtocolSpecs/.
func findPackageRoot(from start: URL) -> URL? {
    var directory = start.standardizedFileURL
    while true {
        let manifest = directory.appendingPathComponent("Package.swift").path
        let specs = directory.appendingPathComponent("ProtocolSpecs").path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: manifest),
           FileManager.default.fileExists(atPath: specs, isDirectory: &isDirectory), isDirectory.boolValue {
            return directory
        }
        let parent = directory.deletingLastPathComponent()
        if parent.path == directory.path { return nil }
        directory = parent
    }
}

var checkOnly = false
var startPath: String?
for argument in CommandLine.arguments.dropFirst() {
    switch argument {
    case "-h", "--help":
        print(usage)
        exit(0)
    case "--check":
        checkOnly = true
    default:
        if argument.hasPrefix("-") { fail("unknown option \(argument)\n\(usage)", code: 2) }
        if startPath != nil { fail("more than one package root given\n\(usage)", code: 2) }
        startPath = argument
    }
}

let start = URL(fileURLWithPath: startPath ?? FileManager.default.currentDirectoryPath, isDirectory: true)
guard let packageRoot = findPackageRoot(from: start) else {
    fail("no directory containing Package.swift and ProtocolSpecs/ at or above \(start.path); run from the package root or pass it as an argument", code: 2)
}

let generator = Generator(specsRoot: packageRoot.appendingPathComponent("ProtocolSpecs", isDirectory: true))
do {
    if checkOnly {
        let report = try generator.plan(for: packageRoot)
        for path in report.written { print("out of date: \(path)") }
        for path in report.deleted { print("stale:       \(path)") }
        if report.isUpToDate {
            print("tributary-gen: \(report.unchanged.count) generated files are up to date")
        } else {
            fail("generated files are out of date; run `swift run tributary-gen` from the package root")
        }
    } else {
        let report = try generator.write(to: packageRoot)
        for path in report.written { print("wrote     \(path)") }
        for path in report.deleted { print("deleted   \(path)") }
        for path in report.unchanged { print("unchanged \(path)") }
        print("tributary-gen: \(report.written.count) written, \(report.deleted.count) deleted, \(report.unchanged.count) unchanged (package root \(packageRoot.path))")
    }
} catch {
    fail("\(error)")
}
