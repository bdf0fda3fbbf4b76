import Foundation

/// TLS material for tests, made once per test process by the `openssl` command in a fresh
/// temporary directory (never committed): a CA, a second unrelated CA, a server certificate for
/// 127.0.0.1 and localhost, an expired server certificate, a client certificate, and the client
/// key encrypted with `clientKeyPassword`.
public struct TestCertificates: Sendable {
    public let directory: String
    /// The CA that signed the server and client certificates.
    public var caFile: String { directory + "/ca.pem" }
    /// A CA that signed nothing used here.
    public var otherCAFile: String { directory + "/other-ca.pem" }
    /// Server certificate: SAN IP:127.0.0.1 and DNS:localhost, signed by `caFile`.
    public var serverCertificate: String { directory + "/server.pem" }
    public var serverKey: String { directory + "/server.key" }
    /// Server certificate for the same names that expired in 2020.
    public var expiredServerCertificate: String { directory + "/expired.pem" }
    public var expiredServerKey: String { directory + "/expired.key" }
    /// Client certificate (CN=tributary-client), signed by `caFile`.
    public var clientCertificate: String { directory + "/client.pem" }
    public var clientKey: String { directory + "/client.key" }
    /// `clientKey` encrypted with AES-256 under `clientKeyPassword`.
    public var encryptedClientKey: String { directory + "/client-encrypted.key" }
    public let clientKeyPassword = "key-pass-7f3a"
    /// A client certificate signed by `otherCAFile`.
    public var foreignClientCertificate: String { directory + "/foreign-client.pem" }
    public var foreignClientKey: String { directory + "/foreign-client.key" }

    /// Made once, on a thread of its own (``offThePool(_:)``): openssl runs seven times.
    private static let shared = Task<TestCertificates, any Error> {
        do {
            return try await offThePool { try generate() }
        } catch let error as BrokerEnvironmentError {
            throw error
        } catch {
            throw BrokerEnvironmentError("cannot make test certificates: \(error)")
        }
    }

    /// The process-wide set, made on first use.
    public static func make() async throws -> TestCertificates {
        try await shared.value
    }

    private static func generate() throws -> TestCertificates {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("tributary-certs-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = TestCertificates(directory: directory)
        func run(_ arguments: [String]) throws {
            try runOpenSSL(arguments, in: directory)
        }
        func write(_ name: String, _ text: String) throws {
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        try write("server.ext", """
            basicConstraints = CA:FALSE
            keyUsage = digitalSignature, keyEncipherment
            extendedKeyUsage = serverAuth
            subjectAltName = IP:127.0.0.1, DNS:localhost

            """)
        try write("client.ext", """
            basicConstraints = CA:FALSE
            keyUsage = digitalSignature, keyEncipherment
            extendedKeyUsage = clientAuth

            """)
        try write("ca.cnf", """
            [ ca ]
            default_ca = test_ca
            [ test_ca ]
            dir = \(directory)
            database = $dir/index.txt
            new_certs_dir = $dir
            serial = $dir/serial
            default_md = sha256
            policy = any_names
            unique_subject = no
            [ any_names ]
            commonName = supplied

            """)
        try write("index.txt", "")
        try write("serial", "1000\n")
        // Two CAs.
        for name in ["ca", "other-ca"] {
            try run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "\(name).key", "-out", "\(name).pem",
                     "-days", "3", "-subj", "/CN=Tributary Test \(name)", "-addext", "basicConstraints=critical,CA:TRUE",
                     "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        }
        // Leaf certificates signed by a CA.
        func leaf(_ name: String, cn: String, ca: String, ext: String) throws {
            try run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=\(cn)"])
            try run(["x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key", "-CAcreateserial",
                     "-out", "\(name).pem", "-days", "3", "-sha256", "-extfile", ext])
        }
        try leaf("server", cn: "localhost", ca: "ca", ext: "server.ext")
        try leaf("client", cn: "tributary-client", ca: "ca", ext: "client.ext")
        try leaf("foreign-client", cn: "foreign-client", ca: "other-ca", ext: "client.ext")
        // An expired server certificate (validity in 2020), signed by the same CA.
        try run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "expired.key", "-out", "expired.csr", "-subj", "/CN=localhost"])
        try run(["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "expired.csr",
                 "-out", "expired.pem", "-startdate", "20200101000000Z", "-enddate", "20200201000000Z",
                 "-extfile", "server.ext", "-notext"])
        // The client key, encrypted.
        try run(["pkey", "-in", "client.key", "-out", "client-encrypted.key", "-aes256",
                 "-passout", "pass:\(certificates.clientKeyPassword)"])
        return certificates
    }

    private static func runOpenSSL(_ arguments: [String], in directory: String) throws {
        let process = Subprocess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let output = SubprocessPipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw BrokerEnvironmentError("cannot run openssl (install the openssl package): \(error)")
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BrokerEnvironmentError("openssl \(arguments.prefix(2).joined(separator: " ")) failed (\(process.terminationStatus)): \(text)")
        }
    }
}
