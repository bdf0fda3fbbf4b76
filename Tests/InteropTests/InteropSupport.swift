import Foundation
import Testing
import TributaryKafka
import TributaryNATS
import TributaryTestSupport

/// Runs a child process and collects its stdout and stderr on background threads, so every
/// wait is bounded: `waitForLine` and `waitForStderr` throw `TimedOut` after their timeout, and
/// `finish` always closes the child's stdin, kills a child that outlives its timeout and records
/// that as a test failure. A child still running when the object goes away is killed.
final class ChildProcess: @unchecked Sendable {
    // The Process and pipes are touched from one test task at a time; the collected output is
    // behind `collected`'s lock, shared with the two reader threads.
    let process = Subprocess()
    let out = SubprocessPipe()
    let err = SubprocessPipe()
    let input = SubprocessPipe()
    private let collected = Collected()

    /// Output read so far; `ended` counts the streams that reached end of file.
    private final class Collected: @unchecked Sendable {
        // Guarded by `lock`.
        private let lock = NSLock()
        private var stdout = Data()
        private var stderr = Data()
        private var ended = 0

        func append(_ data: Data, toStandardError: Bool) {
            lock.withLock { if toStandardError { stderr.append(data) } else { stdout.append(data) } }
        }
        func end() { lock.withLock { ended += 1 } }
        var snapshot: (stdout: Data, stderr: Data, ended: Int) { lock.withLock { (stdout, stderr, ended) } }
    }

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

    deinit {
        process.signal(SIGKILL)
    }

    var name: String { process.executableURL?.lastPathComponent ?? "child" }

    /// Everything the child wrote to stderr so far.
    var stderrSnapshot: String { String(decoding: collected.snapshot.stderr, as: UTF8.self) }

    /// Starts the child and its output readers. With `stdin`, writes it and closes the child's
    /// stdin at once (for a child that reads until end of input).
    func start(stdin: Data? = nil) throws {
        try process.run()
        for (pipe, isError) in [(out, false), (err, true)] {
            let handle = pipe.fileHandleForReading
            let collected = self.collected
            let thread = Thread {
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    collected.append(chunk, toStandardError: isError)
                }
                collected.end()
            }
            thread.start()
        }
        if let stdin {
            input.fileHandleForWriting.write(stdin)
            try? input.fileHandleForWriting.close()
        }
    }

    /// Waits until `condition` holds for the output so far, or throws `TimedOut` after `timeout`.
    private func wait(for what: String, timeout: Duration, _ condition: (String, String) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (stdout, stderr, _) = collected.snapshot
            let outText = String(decoding: stdout, as: UTF8.self), errText = String(decoding: stderr, as: UTF8.self)
            if condition(outText, errText) { return }
            if ContinuousClock.now >= deadline || (!process.isRunning && collected.snapshot.ended == 2) {
                throw TimedOut(what: "\(what) from \(name) (exited: \(!process.isRunning)): stdout \(outText) stderr \(errText)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits until a stdout line equal to `marker` appeared.
    func waitForLine(_ marker: String, timeout: Duration = .seconds(20)) async throws {
        try await wait(for: "line '\(marker)'", timeout: timeout) { stdout, _ in
            stdout.split(separator: "\n").contains { $0 == marker }
        }
    }

    /// Waits until stderr contains `text`.
    func waitForStderr(containing text: String, timeout: Duration = .seconds(20)) async throws {
        try await wait(for: "'\(text)' on stderr", timeout: timeout) { _, stderr in stderr.contains(text) }
    }

    /// Waits until stdout contains `text`.
    func waitForStdout(containing text: String, timeout: Duration = .seconds(20)) async throws {
        try await wait(for: "'\(text)' on stdout", timeout: timeout) { stdout, _ in stdout.contains(text) }
    }

    /// Writes `stdin` (if any), closes the child's stdin, waits for exit and returns status and
    /// output. A child still running after `timeout` is killed and the test fails.
    func finish(stdin: Data? = nil, timeout: Duration = .seconds(30), sourceLocation: SourceLocation = #_sourceLocation)
        async -> (status: Int32, stdout: String, stderr: String) {
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try? input.fileHandleForWriting.close()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            await process.killAndReap()
            Issue.record("\(name) \(process.arguments ?? []) did not exit within \(timeout); killed it", sourceLocation: sourceLocation)
        }
        // The readers reach end of file once the child (and anything it started) closed its ends.
        let drained = ContinuousClock.now + .seconds(5)
        while collected.snapshot.ended < 2 && ContinuousClock.now < drained {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let (stdout, stderr, _) = collected.snapshot
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

/// A Python peer script of `Tests/InteropTests/peers`, run with the harness's Python.
func pythonPeer(_ script: String, _ arguments: [String]) throws -> ChildProcess {
    let path = BrokerEnvironment.repoRoot().appendingPathComponent("Tests/InteropTests/peers/\(script)").path
    return ChildProcess(try BrokerEnvironment.pythonExecutable(), [path] + arguments)
}

/// A Kafka client of the harness's broker (15 s request timeout), with the broker list.
func harnessKafkaClient() async throws -> (KafkaClient, String) {
    let brokers = try BrokerEnvironment.recorded("KAFKA_BROKERS")
    var configuration = try KafkaClientConfiguration(bootstrapServers: brokers)
    configuration.requestTimeout = .seconds(15)
    return (try await KafkaClient.connect(configuration), brokers)
}
