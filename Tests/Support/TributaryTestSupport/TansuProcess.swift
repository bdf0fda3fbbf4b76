import TributaryWire
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private tansu broker (memory storage) for tests that need their own, such as the fault
/// tests: it listens on one port and may advertise another (a ``FaultProxy`` in front of it), so
/// that every connection the client opens goes through the proxy.
public final class TansuProcess: Sendable {
    /// The port tansu listens on.
    public let port: Int
    /// The port tansu advertises in metadata.
    public let advertisedPort: Int
    private let process: Locked<Subprocess?>
    private let logPath: String

    /// Starts tansu (the binary the harness installed, TANSU_BIN) and waits until it accepts
    /// connections.
    public init(advertisedPort: Int? = nil, timeout: Duration = .seconds(20)) async throws {
        let binary = try BrokerEnvironment.recorded("TANSU_BIN")
        port = try freePort()
        self.advertisedPort = advertisedPort ?? port
        logPath = NSTemporaryDirectory() + "tansu-\(port).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = FileHandle(forWritingAtPath: logPath)
        let process = Subprocess()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["broker", "--listener-url", "tcp://127.0.0.1:\(port)", "--advertised-listener-url", "tcp://127.0.0.1:\(self.advertisedPort)",
                             "--storage-engine", "memory://tansu/"]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = Locked(process)
        let deadline = ContinuousClock.now + timeout
        while !BrokerSocket.canConnect(port: port) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                stop()
                throw BrokerEnvironmentError("tansu did not start on 127.0.0.1:\(port); log \(logPath):\n\(logs())")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The broker's log.
    public func logs() -> String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Stops the broker. Idempotent.
    public func stop() {
        let process = self.process.withLock { current -> Subprocess? in
            defer { current = nil }
            return current
        }
        guard let process, process.isRunning else { return }
        // Memory storage: nothing to flush. SIGKILL, because test processes start their
        // children with SIGTERM blocked and tansu would outlive a terminate() by seconds.
        process.signal(SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}
