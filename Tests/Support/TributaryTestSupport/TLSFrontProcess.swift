import TributaryWire
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `Tests/Support/tls_front.py`: a TLS-terminating relay (Python's ssl module) on 127.0.0.1
/// that forwards each connection in plaintext to an upstream port. tansu cannot serve TLS, so
/// Kafka TLS tests put this in front of it.
public final class TLSFrontProcess: Sendable {
    /// Where the relay accepts TLS.
    public let port: Int
    private let process: Locked<Subprocess?>

    /// Starts the relay on `port` (a free one when nil) towards `upstreamPort`, serving
    /// `certificate`/`key`; with `clientCA`, clients must present a certificate it signed.
    public init(port: Int? = nil, upstreamPort: Int, certificate: String, key: String, clientCA: String? = nil) async throws {
        self.port = try port ?? freePort()
        let script = BrokerEnvironment.repoRoot().appendingPathComponent("Tests/Support/tls_front.py").path
        let process = Subprocess()
        process.executableURL = URL(fileURLWithPath: try BrokerEnvironment.pythonExecutable())
        process.arguments = [script, String(self.port), String(upstreamPort), certificate, key] + (clientCA.map { [$0] } ?? [])
        let output = SubprocessPipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = Locked(process)
        let deadline = ContinuousClock.now + .seconds(20)
        while !BrokerSocket.canConnect(port: self.port) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                stop()
                throw BrokerEnvironmentError("the TLS relay did not start on 127.0.0.1:\(self.port)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Stops the relay by PID. Idempotent.
    public func stop() {
        let process = self.process.withLock { current -> Subprocess? in
            defer { current = nil }
            return current
        }
        guard let process, process.isRunning else { return }
        process.signal(SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}
