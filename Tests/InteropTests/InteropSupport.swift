import Foundation
import Testing
import TributaryNATS
import TributaryTestSupport

/// Runs a child process, feeding `stdin`, and returns (exit status, stdout, stderr).
/// Stopped by PID after `timeout`.
final class ChildProcess: @unchecked Sendable {
    // Used from one test task at a time; the Process and pipes are only touched from it.
    let process = Process()
    let out = Pipe()
    let err = Pipe()
    let input = Pipe()

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
    }

    func start() throws { try process.run() }

    /// Reads stdout until a line equal to `marker` appears.
    func waitForLine(_ marker: String, timeout: Duration = .seconds(20)) async throws {
        let handle = out.fileHandleForReading
        let deadline = ContinuousClock.now + timeout
        var buffer = Data()
        while ContinuousClock.now < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            if String(decoding: buffer, as: UTF8.self).split(separator: "\n").contains(where: { $0 == marker }) {
                pendingOutput = buffer
                return
            }
        }
        throw TimedOut(what: "'\(marker)' from \(process.executableURL?.lastPathComponent ?? "child"): got \(String(decoding: buffer, as: UTF8.self))")
    }

    var pendingOutput = Data()

    /// Reads stderr until `text` appears.
    func waitForStderr(containing text: String, timeout: Duration = .seconds(20)) async throws {
        let handle = err.fileHandleForReading
        let deadline = ContinuousClock.now + timeout
        var buffer = Data()
        while ContinuousClock.now < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            if String(decoding: buffer, as: UTF8.self).contains(text) { return }
        }
        throw TimedOut(what: "'\(text)' on stderr of \(process.executableURL?.lastPathComponent ?? "child"): got \(String(decoding: buffer, as: UTF8.self))")
    }

    /// Waits for exit (killing after `timeout`) and returns status and output.
    func finish(stdin: Data? = nil, timeout: Duration = .seconds(30)) async -> (status: Int32, stdout: String, stderr: String) {
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try? input.fileHandleForWriting.close()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        let stdout = pendingOutput + out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}

/// The directory holding the built executables (next to the test bundle).
func builtProductsDirectory() -> URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
}

func toolPath(_ name: String) throws -> String {
    let path = builtProductsDirectory().appendingPathComponent(name).path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw ToolMissing(path: path)
    }
    return path
}

struct ToolMissing: Error, CustomStringConvertible {
    let path: String
    var description: String { "\(path) is not built; run `swift build` before `swift test` (Tools/test.sh does)" }
}

func peerScript() -> String {
    BrokerEnvironment.repoRoot().appendingPathComponent("Tests/InteropTests/peers/nats_py_peer.py").path
}

