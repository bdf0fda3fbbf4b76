import Foundation
import Testing
import TributaryTLS
import TributaryTestSupport
import TributaryTransport

/// `openssl s_server` on 127.0.0.1: an independent TLS server that echoes each line reversed.
final class OpenSSLServer: Sendable {
    let port: Int
    private let process: Subprocess

    init(certificate: String, key: String, arguments: [String] = []) async throws {
        port = try freePort()
        let process = Subprocess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", certificate, "-key", key,
                             "-rev", "-quiet"] + arguments
        process.standardInput = SubprocessPipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let socket = try? TCPSocket.connect(host: "127.0.0.1", port: port, timeout: .milliseconds(200)) {
                socket.close()
                return
            }
            do { try await Task.sleep(for: .milliseconds(50)) } catch {
                process.signal(SIGKILL)
                throw error
            }
        }
        process.signal(SIGKILL)
        throw BrokerEnvironmentError("openssl s_server did not start on port \(port)")
    }

    /// Stops the server by PID with SIGKILL (s_server may inherit an ignored SIGTERM).
    func stop() {
        if process.isRunning { process.signal(SIGKILL) }
        process.waitUntilExit()
    }
}

/// Connects with `configuration`, writes a line and returns what comes back (or throws).
private func roundTrip(port: Int, _ configuration: TLSConfiguration, host: String = "127.0.0.1", line: String = "hello tls") throws -> String {
    let stream = try TLSStream.factory(configuration)(host, port, .seconds(5))
    defer { stream.close() }
    try Array((line + "\n").utf8).withUnsafeBytes { try stream.writeAll($0, timeout: .seconds(5)) }
    var received: [UInt8] = []
    let deadline = ContinuousClock.now + .seconds(5)
    while !received.contains(10), ContinuousClock.now < deadline {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let result = try buffer.withUnsafeMutableBytes { try stream.read(into: $0) }
        switch result {
        case .bytes(let n): received += buffer[..<n]
        case .wouldBlock: _ = try stream.waitFor(events: Int16(POLLIN), timeout: .seconds(1))
        }
    }
    return String(decoding: received, as: UTF8.self)
}

private func expectTransportError(_ code: TransportError.Code, _ body: () throws -> Void,
                                  sourceLocation: SourceLocation = #_sourceLocation) -> TransportError? {
    do {
        try body()
        Issue.record("expected a \(code) error, got success", sourceLocation: sourceLocation)
        return nil
    } catch let error as TransportError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    } catch {
        Issue.record("expected TransportError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

@Suite("TLS streams against openssl s_server", .serialized)
struct TLSStreamTests {
    @Test func verifiedRoundTripOverIPAndName() async throws {
        let certs = try await TestCertificates.make()
        let server = try await OpenSSLServer(certificate: certs.serverCertificate, key: certs.serverKey)
        defer { server.stop() }
        let configuration = TLSConfiguration(trustRoots: .caFile(certs.caFile))
        #expect(try roundTrip(port: server.port, configuration) == "slt olleh\n")
        #expect(try roundTrip(port: server.port, configuration, host: "localhost") == "slt olleh\n")
    }

    @Test func unknownAuthorityAndSystemStoreRejectTheTestCA() async throws {
        let certs = try await TestCertificates.make()
        let server = try await OpenSSLServer(certificate: certs.serverCertificate, key: certs.serverKey)
        defer { server.stop() }
        let other = expectTransportError(.tlsVerification) { _ = try roundTrip(port: server.port, TLSConfiguration(trustRoots: .caFile(certs.otherCAFile))) }
        #expect(other?.verificationFailure == .unknownAuthority)
        #expect(other?.message.contains("CA") == true, "\(String(describing: other))")
        let system = expectTransportError(.tlsVerification) { _ = try roundTrip(port: server.port, TLSConfiguration()) }
        #expect(system?.verificationFailure == .unknownAuthority)
    }

    @Test func expiredCertificate() async throws {
        let certs = try await TestCertificates.make()
        let server = try await OpenSSLServer(certificate: certs.expiredServerCertificate, key: certs.expiredServerKey)
        defer { server.stop() }
        let error = expectTransportError(.tlsVerification) { _ = try roundTrip(port: server.port, TLSConfiguration(trustRoots: .caFile(certs.caFile))) }
        #expect(error?.verificationFailure == .expired)
        #expect(error?.message.contains("expired") == true)
        // The loudly named escape hatch connects anyway.
        let insecure = TLSConfiguration(dangerouslyDisableCertificateVerification: true)
        #expect(try roundTrip(port: server.port, insecure) == "slt olleh\n")
    }

    @Test func nameMismatch() async throws {
        let certs = try await TestCertificates.make()
        let server = try await OpenSSLServer(certificate: certs.serverCertificate, key: certs.serverKey)
        defer { server.stop() }
        let byName = expectTransportError(.tlsVerification) {
            _ = try roundTrip(port: server.port, TLSConfiguration(trustRoots: .caFile(certs.caFile), serverName: "nats.example.com"))
        }
        #expect(byName?.verificationFailure == .nameMismatch)
        let byIP = expectTransportError(.tlsVerification) {
            _ = try roundTrip(port: server.port, TLSConfiguration(trustRoots: .caFile(certs.caFile), serverName: "10.1.2.3"))
        }
        #expect(byIP?.verificationFailure == .nameMismatch)
    }

    @Test func mutualTLS() async throws {
        let certs = try await TestCertificates.make()
        let server = try await OpenSSLServer(certificate: certs.serverCertificate, key: certs.serverKey,
                                       arguments: ["-Verify", "1", "-verify_return_error", "-CAfile", certs.caFile])
        defer { server.stop() }
        var configuration = TLSConfiguration(trustRoots: .caFile(certs.caFile))
        // No client certificate: the server refuses (during the handshake with TLS 1.2, on the
        // first read with TLS 1.3).
        _ = expectTransportError(.tlsPeerRejectedCertificate) { _ = try roundTrip(port: server.port, configuration) }
        configuration.certificateFile = certs.clientCertificate
        configuration.privateKeyFile = certs.clientKey
        #expect(try roundTrip(port: server.port, configuration) == "slt olleh\n")
        configuration.privateKeyFile = certs.encryptedClientKey
        configuration.privateKeyPassword = certs.clientKeyPassword
        #expect(try roundTrip(port: server.port, configuration) == "slt olleh\n")
        // A certificate from a CA the server does not trust.
        let foreign = TLSConfiguration(trustRoots: .caFile(certs.caFile), certificateFile: certs.foreignClientCertificate,
                                       privateKeyFile: certs.foreignClientKey)
        _ = expectTransportError(.tlsPeerRejectedCertificate) { _ = try roundTrip(port: server.port, foreign) }
    }

    @Test func configurationErrorsNameTheFileAndNeverThePassword() async throws {
        let certs = try await TestCertificates.make()
        let server = try await OpenSSLServer(certificate: certs.serverCertificate, key: certs.serverKey)
        defer { server.stop() }
        let missing = expectTransportError(.tlsConfiguration) {
            _ = try roundTrip(port: server.port, TLSConfiguration(trustRoots: .caFile("/nonexistent/ca.pem")))
        }
        #expect(missing?.message.contains("/nonexistent/ca.pem") == true)
        let wrongPassword = "wrong-pass-93c1"
        let wrong = expectTransportError(.tlsConfiguration) {
            _ = try roundTrip(port: server.port, TLSConfiguration(trustRoots: .caFile(certs.caFile), certificateFile: certs.clientCertificate,
                                                                  privateKeyFile: certs.encryptedClientKey, privateKeyPassword: wrongPassword))
        }
        #expect(wrong?.message.contains("password") == true)
        #expect(wrong.map { !"\($0)".contains(wrongPassword) } == true, "the key password leaked into the error")
        let noPassword = expectTransportError(.tlsConfiguration) {
            _ = try roundTrip(port: server.port, TLSConfiguration(trustRoots: .caFile(certs.caFile), certificateFile: certs.clientCertificate,
                                                                  privateKeyFile: certs.encryptedClientKey))
        }
        #expect(noPassword?.message.contains("encrypted") == true)
        let mismatched = expectTransportError(.tlsConfiguration) {
            _ = try roundTrip(port: server.port, TLSConfiguration(trustRoots: .caFile(certs.caFile), certificateFile: certs.clientCertificate,
                                                                  privateKeyFile: certs.serverKey))
        }
        #expect(mismatched?.message.contains("does not belong") == true)
        let config = TLSConfiguration(privateKeyPassword: wrongPassword)
        #expect(!config.description.contains(wrongPassword))
    }

    @Test func versionFloor() async throws {
        let certs = try await TestCertificates.make()
        let server = try await OpenSSLServer(certificate: certs.serverCertificate, key: certs.serverKey, arguments: ["-tls1_2"])
        defer { server.stop() }
        #expect(try roundTrip(port: server.port, TLSConfiguration(trustRoots: .caFile(certs.caFile))) == "slt olleh\n")
        let error = expectTransportError(.tlsHandshake) {
            _ = try roundTrip(port: server.port, TLSConfiguration(trustRoots: .caFile(certs.caFile), minimumVersion: .tls13))
        }
        #expect(error?.message.contains("TLS version") == true, "\(String(describing: error))")
    }

    @Test func silentPeerTimesOutAndPlaintextPeerIsNamed() throws {
        let silent = try FakeNATSServer { connection, _ in _ = connection.waitForClose() }
        defer { silent.stop() }
        let timedOut = expectTransportError(.tlsHandshakeTimedOut) {
            _ = try roundTrip(port: silent.port, TLSConfiguration(handshakeTimeout: .milliseconds(300)))
        }
        #expect(timedOut?.message.contains("did not finish") == true)

        let plaintext = try FakeNATSServer { connection, _ in
            connection.send("INFO {\"server_id\":\"plain\"}\r\n")
            _ = connection.waitForClose()
        }
        defer { plaintext.stop() }
        let error = expectTransportError(.tlsHandshake) { _ = try roundTrip(port: plaintext.port, TLSConfiguration()) }
        #expect(error?.message.contains("does not seem to speak TLS") == true, "\(String(describing: error))")
    }
}
