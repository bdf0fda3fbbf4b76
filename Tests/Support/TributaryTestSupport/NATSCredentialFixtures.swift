import Foundation

/// NKEY seeds, user JWTs, creds files and server config fragments made at test time by
/// `Tests/Fixtures/nkeys/nats_auth_setup.py` with the PyPI packages nkeys and nats-jwt (an
/// implementation independent of the one under test). See that script for the file list.
///
/// A missing Python package is a failure (the error carries the script's stderr), never a skip.
public struct NATSCredentialFixtures: Sendable {
    /// The temporary directory holding the files; `remove()` deletes it.
    public let directory: URL
    /// Every seed and JWT written, for checks that they never appear in error texts.
    public let secrets: [String]
    /// Public key of each user, by name ("alice", "nkey-user", ...).
    public let users: [String: String]
    /// Public key of the application account.
    public let account: String

    /// Runs the script (on a thread of its own, ``offThePool(_:)``); `soon.creds` expires
    /// `expiresIn` seconds from now.
    public static func make(expiresIn: Int = 4) async throws -> NATSCredentialFixtures {
        try await offThePool { try runScript(expiresIn: expiresIn) }
    }

    private static func runScript(expiresIn: Int) throws -> NATSCredentialFixtures {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tributary-creds-\(UUID().uuidString.prefix(8))", isDirectory: true)
        let script = BrokerEnvironment.repoRoot().appendingPathComponent("Tests/Fixtures/nkeys/nats_auth_setup.py").path
        let process = Subprocess()
        process.executableURL = URL(fileURLWithPath: try BrokerEnvironment.pythonExecutable())
        process.arguments = [script, directory.path, String(expiresIn)]
        let errors = SubprocessPipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Read to end of file first: a child that fills the pipe would never exit otherwise.
        let stderr = String(decoding: errors.readToEnd(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BrokerEnvironmentError(
                "nats_auth_setup.py failed (status \(process.terminationStatus)); run Tools/brokers.sh install (it installs nkeys and nats-jwt): \(stderr)")
        }
        let summaryData = try Data(contentsOf: directory.appendingPathComponent("summary.json"))
        guard let summary = try JSONSerialization.jsonObject(with: summaryData) as? [String: Any],
              let secrets = summary["secrets"] as? [String], let users = summary["users"] as? [String: String],
              let account = summary["account"] as? String else {
            throw BrokerEnvironmentError("nats_auth_setup.py wrote an unexpected summary.json in \(directory.path)")
        }
        return NATSCredentialFixtures(directory: directory, secrets: secrets, users: users, account: account)
    }

    /// Path of a file the script wrote (`alice.creds`, `nkey-user.seed`, ...).
    public func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// Contents of a file the script wrote.
    public func text(_ name: String) throws -> String {
        try String(contentsOfFile: path(name), encoding: .utf8)
    }

    /// Writes `text` to `name` in the directory (for rotation and malformed-file tests); returns the path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: directory.appendingPathComponent(name), options: .atomic)
        return path(name)
    }

    /// The seed and JWT of a creds file, for tests that pass them in memory.
    public func jwtAndSeed(ofCreds name: String) throws -> (jwt: String, seed: String) {
        let lines = try text(name).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let jwt = lines.first(where: { $0.hasPrefix("eyJ") }), let seed = lines.first(where: { $0.hasPrefix("SU") }) else {
            throw BrokerEnvironmentError("\(name) has no JWT or seed line")
        }
        return (jwt, seed)
    }

    /// Deletes the directory (unless TRIBUTARY_KEEP_BROKER_FILES is set).
    public func remove() {
        if BrokerEnvironment.environmentValue("TRIBUTARY_KEEP_BROKER_FILES") == nil {
            try? FileManager.default.removeItem(at: directory)
        }
    }
}
