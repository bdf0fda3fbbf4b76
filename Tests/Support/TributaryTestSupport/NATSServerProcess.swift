import TributaryWire
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One real `nats-server` process on 127.0.0.1 and a free port, for conformance tests.
///
/// Create it, `start()` it (or use a factory such as `plain()`, which returns it started),
/// and `stop()` it when done. Stopping and killing go by PID (`kill(2)`); `restart()` uses
/// the same port, arguments and files. The server writes its log, its config file and its
/// JetStream store into `directory`, a fresh temporary directory that `deinit` removes
/// (set `TRIBUTARY_KEEP_BROKER_FILES=1` to keep it). Attach `logs()` to failures.
///
/// The binary comes from `BrokerEnvironment.natsServerBinary()`; a missing binary throws.
///
/// Concurrency: all methods may be called from any thread or task. `stop()` and `kill()`
/// block the caller until the process has exited (normally a few milliseconds; at most the
/// grace period plus 5 s), so they can be used in `defer`.
public final class NATSServerProcess: Sendable {
    /// The client port on 127.0.0.1.
    public let port: Int
    /// The HTTP monitoring port (`-m`), if monitoring was requested.
    public let monitorPort: Int?
    /// Temporary directory holding the log, the config file and the JetStream store.
    public let directory: URL
    /// Path of the file receiving the server's stdout and stderr (appended on restart).
    public let logPath: String
    /// Path of the config file, if the server was created with one.
    public let configPath: String?
    /// Path of the JetStream store directory, if JetStream is enabled.
    public let jetStreamStorePath: String?
    /// The nats-server binary.
    public let binary: String
    /// Every argument passed to the binary, on every start.
    public let arguments: [String]

    /// `nats://127.0.0.1:PORT`.
    public var url: String { "nats://127.0.0.1:\(port)" }

    private struct State {
        var process: Subprocess?
        /// Size of the log file when the current process was launched; readiness is judged
        /// from the log lines after it.
        var logOffset: UInt64 = 0
        var launches = 0
    }

    private let state: Locked<State>

    /// Prepares a server; nothing runs until `start()`.
    ///
    /// - Parameters:
    ///   - extra: arguments appended after the ones this type sets (`-a 127.0.0.1 -p PORT`,
    ///     then `-m`, `-c`, `-js -sd` as requested). Command-line flags override the config file.
    ///   - port: the client port; a free one when nil.
    ///   - contents: text of a config file (`-c`). A `listen: 127.0.0.1:PORT` line is added
    ///     in front unless the text has its own `listen`. It must not set `log_file`:
    ///     readiness is read from the server's stderr.
    ///   - monitoring: open the HTTP monitoring port (`-m`) on a free port.
    ///   - jetStream: enable JetStream (`-js`) with its store in `directory`.
    ///   - serverName: `--server_name`, when given.
    /// - Throws: `BrokerEnvironmentError` when nats-server is not installed or the temporary
    ///   files cannot be written.
    public init(
        arguments extra: [String] = [],
        port: Int? = nil,
        configFile contents: String? = nil,
        monitoring: Bool = false,
        jetStream: Bool = false,
        serverName: String? = nil
    ) throws {
        let binary = try BrokerEnvironment.natsServerBinary()
        let port = try port ?? freePort()
        let monitorPort = monitoring ? try freePort() : nil
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tributary-nats-\(port)-\(UUID().uuidString.prefix(8))", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw BrokerEnvironmentError("cannot create \(directory.path): \(error)")
        }

        var arguments = ["-a", "127.0.0.1", "-p", String(port)]
        if let monitorPort {
            arguments += ["-m", String(monitorPort)]
        }
        var configPath: String?
        if let contents {
            let path = directory.appendingPathComponent("server.conf").path
            let hasListen = contents.split(whereSeparator: \.isNewline).contains {
                $0.trimmingCharacters(in: .whitespaces).hasPrefix("listen")
            }
            let text = hasListen ? contents : "listen: 127.0.0.1:\(port)\n" + contents
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
                throw BrokerEnvironmentError("cannot write \(path)")
            }
            arguments += ["-c", path]
            configPath = path
        }
        var storePath: String?
        if jetStream {
            let path = directory.appendingPathComponent("jetstream", isDirectory: true).path
            arguments += ["-js", "-sd", path]
            storePath = path
        }
        if let serverName {
            arguments += ["--server_name", serverName]
        }
        arguments += extra

        self.binary = binary
        self.port = port
        self.monitorPort = monitorPort
        self.directory = directory
        self.logPath = directory.appendingPathComponent("nats-server.log").path
        self.configPath = configPath
        self.jetStreamStorePath = storePath
        self.arguments = arguments
        self.state = Locked(State())
    }

    deinit {
        // Best effort and non-blocking: SIGKILL by PID, no waiting.
        state.withLock { state in
            if let process = state.process, process.isRunning {
                sendSignal(SIGKILL, to: process.processIdentifier)
            }
        }
        if BrokerEnvironment.environmentValue("TRIBUTARY_KEEP_BROKER_FILES") == nil {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    // MARK: - Factories (each returns a started, ready server)

    /// A plain server: no auth, no JetStream.
    public static func plain() async throws -> NATSServerProcess {
        try await started(NATSServerProcess())
    }

    /// A server requiring `user`/`password` (`--user`, `--pass`).
    public static func withUserPassword(user: String, password: String) async throws -> NATSServerProcess {
        try await started(NATSServerProcess(arguments: ["--user", user, "--pass", password]))
    }

    /// A server requiring a token (`--auth`).
    public static func withToken(_ token: String) async throws -> NATSServerProcess {
        try await started(NATSServerProcess(arguments: ["--auth", token]))
    }

    /// A server configured by `text` (users and permissions, nkeys, TLS...); see
    /// `init(configFile:)` for the `listen` line.
    public static func withConfig(_ text: String) async throws -> NATSServerProcess {
        try await started(NATSServerProcess(configFile: text))
    }

    /// A server with JetStream enabled, its store in `directory` (kept across `restart()`).
    public static func jetStream() async throws -> NATSServerProcess {
        try await started(NATSServerProcess(jetStream: true))
    }

    private static func started(_ server: NATSServerProcess) async throws -> NATSServerProcess {
        try await server.start()
        return server
    }

    // MARK: - Lifecycle

    /// Launches the server and waits until it is ready (see `waitUntilReady(timeout:)`).
    ///
    /// - Throws: `BrokerEnvironmentError` with the log when the server is already running,
    ///   cannot be launched, exits, or is not ready within `timeout`; the process is then
    ///   killed.
    public func start(timeout: Duration = .seconds(20)) async throws {
        try launch()
        do {
            try await waitUntilReady(timeout: timeout)
        } catch {
            kill()
            throw error
        }
    }

    /// Waits until the current process has logged "Server is ready" and its client port
    /// accepts TCP connections, polling every 25 ms.
    ///
    /// - Throws: `BrokerEnvironmentError` with the log when the process is not running,
    ///   exits while waiting, or is not ready within `timeout`.
    public func waitUntilReady(timeout: Duration = .seconds(20)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let (running, offset, status) = state.withLock { state -> (Bool, UInt64, Int32?) in
                guard let process = state.process else { return (false, 0, nil) }
                return process.isRunning
                    ? (true, state.logOffset, nil)
                    : (false, state.logOffset, process.terminationStatus)
            }
            guard running else {
                let why = status.map { "exited with status \($0)" } ?? "was never started"
                let hint = logs().contains("address already in use")
                    ? " (port \(port) was taken by another process; try again)"
                    : ""
                throw failure("nats-server \(why) before it was ready\(hint)")
            }
            if logs(since: offset).contains("Server is ready"), BrokerSocket.canConnect(port: port) {
                return
            }
            if clock.now >= deadline {
                throw failure("nats-server on port \(port) was not ready within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    /// Stops the server: SIGTERM by PID, then SIGKILL after `grace`. Blocks until the process
    /// has exited. Does nothing when it is not running.
    public func stop(grace: Duration = .seconds(5)) {
        guard let pid = runningPID() else { return }
        sendSignal(SIGTERM, to: pid)
        if waitForExit(timeout: grace) { return }
        sendSignal(SIGKILL, to: pid)
        _ = waitForExit(timeout: .seconds(5))
    }

    /// Kills the server at once (SIGKILL by PID), like a crash. Blocks until the process has
    /// exited. Does nothing when it is not running.
    public func kill() {
        guard let pid = runningPID() else { return }
        sendSignal(SIGKILL, to: pid)
        _ = waitForExit(timeout: .seconds(5))
    }

    /// Stops the server if it runs, then starts it again on the same port with the same
    /// arguments, config and JetStream store, and waits until it is ready.
    public func restart(timeout: Duration = .seconds(20)) async throws {
        await stopped()
        try await start(timeout: timeout)
    }

    /// ``stop(grace:)`` that waits without holding a thread of the cooperative pool.
    public func stopped(grace: Duration = .seconds(5)) async {
        guard let pid = runningPID() else { return }
        sendSignal(SIGTERM, to: pid)
        if await exited(within: grace) { return }
        sendSignal(SIGKILL, to: pid)
        _ = await exited(within: .seconds(5))
    }

    /// ``kill()`` that waits without holding a thread of the cooperative pool.
    public func killed() async {
        guard let pid = runningPID() else { return }
        sendSignal(SIGKILL, to: pid)
        _ = await exited(within: .seconds(5))
    }

    private func exited(within timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while runningPID() != nil {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// True while the server process runs.
    public var isRunning: Bool {
        runningPID() != nil
    }

    /// PID of the running server process, or nil.
    public var processIdentifier: Int32? {
        runningPID()
    }

    /// The whole log: every launch's stdout and stderr, each launch introduced by a
    /// `==== launch N: ... ====` line.
    public func logs() -> String {
        logs(since: 0)
    }

    /// The body of `GET path` on the monitoring port (`/varz`, `/connz?subs=1`, `/routez`...).
    ///
    /// - Throws: `BrokerEnvironmentError` when the server has no monitoring port or the
    ///   request fails.
    public func monitor(_ path: String) throws -> Data {
        guard let monitorPort else {
            throw BrokerEnvironmentError("nats-server on port \(port) has no monitoring port: create it with monitoring: true")
        }
        return try BrokerSocket.httpGet(port: monitorPort, path: path)
    }

    // MARK: - Private

    private func launch() throws {
        try state.withLock { state in
            if let process = state.process, process.isRunning {
                throw BrokerEnvironmentError("nats-server on port \(port) is already running (pid \(process.processIdentifier))")
            }
            if !FileManager.default.fileExists(atPath: logPath) {
                _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            }
            guard let log = FileHandle(forWritingAtPath: logPath) else {
                throw BrokerEnvironmentError("cannot open \(logPath) for writing")
            }
            defer { try? log.close() } // the child has its own copy once run() returns
            let offset = try log.seekToEnd()
            state.launches += 1
            let banner = "==== launch \(state.launches): \(binary) \(redactedArguments(arguments).joined(separator: " ")) ====\n"
            try log.write(contentsOf: Data(banner.utf8))

            let process = Subprocess()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
            process.currentDirectoryURL = directory
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = log
            process.standardError = log
            do {
                try process.run()
            } catch {
                throw BrokerEnvironmentError("cannot launch \(binary): \(error)")
            }
            state.process = process
            state.logOffset = offset
        }
    }

    private func runningPID() -> Int32? {
        state.withLock { state in
            guard let process = state.process, process.isRunning else { return nil }
            return process.processIdentifier
        }
    }

    /// Polls until the process has exited (and been reaped by Foundation, so its PID can
    /// no longer be reused while we still signal it). True if it exited within `timeout`.
    private func waitForExit(timeout: Duration) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while runningPID() != nil {
            if clock.now >= deadline { return false }
            usleep(5_000)
        }
        return true
    }

    private func logs(since offset: UInt64) -> String {
        guard let handle = FileHandle(forReadingAtPath: logPath) else { return "" }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: offset)
            let data = try handle.readToEnd() ?? Data()
            return String(decoding: data, as: UTF8.self)
        } catch {
            return ""
        }
    }

    private func failure(_ message: String) -> BrokerEnvironmentError {
        BrokerEnvironmentError("\(message); log \(logPath):\n\(logs())")
    }
}

/// `kill(2)` by PID; a free function so that it is not shadowed by `NATSServerProcess.kill()`.
private func sendSignal(_ signal: Int32, to pid: Int32) {
    #if canImport(Glibc)
    _ = Glibc.kill(pid, signal)
    #else
    _ = Darwin.kill(pid, signal)
    #endif
}

/// The arguments with the values of `--pass` and `--auth` replaced, for logs and errors.
private func redactedArguments(_ arguments: [String]) -> [String] {
    var result: [String] = []
    var hideNext = false
    for argument in arguments {
        result.append(hideNext ? "***" : argument)
        hideNext = argument == "--pass" || argument == "--auth"
    }
    return result
}
