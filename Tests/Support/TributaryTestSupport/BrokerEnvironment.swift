import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A broker, its binary or its settings are missing or misbehave.
///
/// The description says what is wrong and what to run; it never contains passwords from URLs.
/// Conformance tests let it propagate: a missing broker is a failure, never a skip.
public struct BrokerEnvironmentError: Error, CustomStringConvertible, Sendable {
    /// What went wrong and what to do.
    public let description: String

    /// Creates an error with the given description.
    public init(_ description: String) {
        self.description = description
    }
}

/// Where the real brokers and peer clients used by conformance and interop tests are.
///
/// Values come from the process environment first, then from `.brokers/env` in the
/// repository root, which `Tools/brokers.sh install` and `Tools/brokers.sh start` write
/// (`Tools/test.sh` runs both and also exports the values).
public enum BrokerEnvironment {
    /// The repository root.
    ///
    /// `$TRIBUTARY_REPO_ROOT` when set; otherwise the nearest ancestor holding both
    /// `Package.swift` and `Tools/brokers.sh`, searched from this source file (symlinks
    /// resolved first, then as written) and then from the working directory; otherwise the
    /// working directory.
    public static func repoRoot() -> URL {
        if let root = environmentValue("TRIBUTARY_REPO_ROOT") {
            return URL(fileURLWithPath: root, isDirectory: true).standardizedFileURL
        }
        let thisFile = URL(fileURLWithPath: #filePath)
        let starts = [
            thisFile.resolvingSymlinksInPath().deletingLastPathComponent(),
            thisFile.deletingLastPathComponent(),
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true),
        ]
        for start in starts {
            if let root = ancestor(of: start, containing: ["Package.swift", "Tools/brokers.sh"]) {
                return root
            }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
    }

    /// `.brokers/env` in the repository root (it may not exist).
    public static func brokersEnvFile() -> URL {
        repoRoot().appendingPathComponent(".brokers/env")
    }

    /// Absolute path of the `nats-server` binary.
    ///
    /// `$NATS_SERVER_BIN`, else `NATS_SERVER_BIN` in `.brokers/env`, else the first
    /// `nats-server` on `PATH` that is a binary (wrapper scripts such as pyenv shims are
    /// skipped: they would run the server under another PID, and servers are stopped by PID).
    /// - Throws: `BrokerEnvironmentError` saying "nats-server not found: run
    ///   Tools/brokers.sh install" when there is none, or when `$NATS_SERVER_BIN` is not an
    ///   executable file.
    public static func natsServerBinary() throws -> String {
        if let path = environmentValue("NATS_SERVER_BIN") {
            guard isExecutableFile(path) else {
                throw BrokerEnvironmentError(
                    "NATS_SERVER_BIN=\(path) is not an executable file: run Tools/brokers.sh install, or fix NATS_SERVER_BIN"
                )
            }
            return path
        }
        let envFile = brokersEnvFile()
        if let path = recordedValue("NATS_SERVER_BIN", in: envFile), isExecutableFile(path) {
            return path
        }
        var skippedScripts: [String] = []
        for directory in (environmentValue("PATH") ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("nats-server").path
            guard isExecutableFile(candidate) else { continue }
            if isScript(candidate) {
                skippedScripts.append(candidate)
                continue
            }
            return candidate
        }
        let skipped = skippedScripts.isEmpty
            ? ""
            : " (skipped wrapper scripts \(skippedScripts.joined(separator: ", ")))"
        throw BrokerEnvironmentError(
            "nats-server not found: run Tools/brokers.sh install (looked at $NATS_SERVER_BIN, \(envFile.path) and PATH\(skipped))"
        )
    }

    /// The URL of the shared NATS server the suite runs against.
    ///
    /// `$NATS_URL`, else `NATS_URL` in `.brokers/env`.
    /// - Throws: `BrokerEnvironmentError` when neither is set.
    public static func natsURL() throws -> String {
        if let url = environmentValue("NATS_URL") {
            return url
        }
        let envFile = brokersEnvFile()
        if let url = recordedValue("NATS_URL", in: envFile), !url.isEmpty {
            return url
        }
        throw BrokerEnvironmentError(
            "NATS_URL is not set and \(envFile.path) records none: run Tools/brokers.sh install && Tools/brokers.sh start (or Tools/test.sh), or set NATS_URL=nats://host:port"
        )
    }

    /// A value the broker harness recorded: `$NAME`, else `NAME` in `.brokers/env`.
    /// - Throws: `BrokerEnvironmentError` naming the variable when neither is set.
    public static func recorded(_ name: String) throws -> String {
        if let value = environmentValue(name) { return value }
        let envFile = brokersEnvFile()
        if let value = recordedValue(name, in: envFile), !value.isEmpty { return value }
        throw BrokerEnvironmentError(
            "\(name) is not set and \(envFile.path) records none: run Tools/brokers.sh install && Tools/brokers.sh start (or Tools/test.sh)"
        )
    }

    /// The Python interpreter that has the peer clients (nats-py) installed.
    ///
    /// `$TRIBUTARY_PYTHON`, else `TRIBUTARY_PYTHON` in `.brokers/env`.
    /// - Throws: `BrokerEnvironmentError` when neither names an executable file.
    public static func pythonExecutable() throws -> String {
        if let path = environmentValue("TRIBUTARY_PYTHON"), isExecutableFile(path) {
            return path
        }
        let envFile = brokersEnvFile()
        if let path = recordedValue("TRIBUTARY_PYTHON", in: envFile), isExecutableFile(path) {
            return path
        }
        throw BrokerEnvironmentError(
            "no Python with the peer clients: run Tools/brokers.sh install (it records TRIBUTARY_PYTHON in \(envFile.path))"
        )
    }

    /// The value of `name` recorded in an env file written by `Tools/brokers.sh`
    /// (`export NAME=VALUE` lines, values shell-quoted; the last assignment wins).
    public static func recordedValue(_ name: String, in file: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: file.path),
              let text = String(data: data, encoding: .utf8)
        else { return nil }
        var value: String?
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("export ") {
                line = String(line.dropFirst("export ".count)).trimmingCharacters(in: .whitespaces)
            }
            guard let equals = line.firstIndex(of: "="), line[..<equals] == name else { continue }
            value = unquoteShellWord(String(line[line.index(after: equals)...]))
        }
        return value
    }

    // MARK: - Helpers

    static func environmentValue(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    private static func ancestor(of start: URL, containing markers: [String]) -> URL? {
        var directory = start.standardizedFileURL
        while true {
            let found = markers.allSatisfy {
                FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path)
            }
            if found { return directory }
            let parent = directory.deletingLastPathComponent().standardizedFileURL
            if parent.path == directory.path { return nil }
            directory = parent
        }
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            && !isDirectory.boolValue
            && access(path, X_OK) == 0
    }

    private static func isScript(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 2)) ?? Data()
        return head == Data("#!".utf8)
    }

    /// Undoes bash's `printf %q` quoting and plain '...' / "..." quoting.
    private static func unquoteShellWord(_ word: String) -> String {
        var characters = Substring(word)
        if characters.hasPrefix("$'"), characters.hasSuffix("'"), characters.count >= 3 {
            characters = characters.dropFirst(2).dropLast()
            return unescape(characters, ansiC: true)
        }
        if characters.count >= 2, characters.first == "'", characters.last == "'" {
            return String(characters.dropFirst().dropLast())
        }
        if characters.count >= 2, characters.first == "\"", characters.last == "\"" {
            return unescape(characters.dropFirst().dropLast(), ansiC: false)
        }
        return unescape(characters, ansiC: false)
    }

    private static func unescape(_ text: Substring, ansiC: Bool) -> String {
        var result = ""
        var escaped = false
        for character in text {
            if escaped {
                switch (ansiC, character) {
                case (true, "n"): result.append("\n")
                case (true, "t"): result.append("\t")
                case (true, "r"): result.append("\r")
                default: result.append(character)
                }
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}
