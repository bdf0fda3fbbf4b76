/// How a client sets up TLS: whom it trusts, how it proves who it is, and how strictly it checks
/// the server.
///
/// The defaults verify the server's certificate chain against the system trust store and its
/// name against the host connected to, with TLS 1.2 as the oldest version. Certificate and key
/// files are read again on every connect, so rotated files are picked up by the next reconnect.
public struct TLSConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// The certificate authorities that may sign the server's certificate.
    public enum TrustRoots: Sendable, Hashable {
        /// The operating system's trust store.
        case system
        /// A PEM file of one or more CA certificates.
        case caFile(String)
        /// A directory of CA certificates in OpenSSL's hashed layout (`c_rehash`).
        case caDirectory(String)
    }

    /// The oldest TLS version accepted.
    public enum Version: Sendable, Hashable {
        case tls12, tls13
    }

    /// Whom this client trusts. Default: the system trust store.
    public var trustRoots: TrustRoots
    /// A PEM file with this client's certificate (and any intermediates), for mutual TLS.
    public var certificateFile: String?
    /// A PEM file with the private key of `certificateFile`.
    public var privateKeyFile: String?
    /// The password of an encrypted `privateKeyFile`. Never printed.
    public var privateKeyPassword: String?
    /// The name sent as SNI and checked against the server's certificate; nil: the host connected to.
    public var serverName: String?
    /// The oldest TLS version accepted. Default: TLS 1.2.
    public var minimumVersion: Version
    /// Time limit for the TLS handshake; nil: the client's connect timeout.
    public var handshakeTimeout: Duration?
    /// Accept any server certificate: no chain check, no name check. This removes the protection
    /// TLS gives against a man in the middle. Only for throw-away test set-ups; never the default.
    public var dangerouslyDisableCertificateVerification: Bool

    /// A configuration; every argument has the safe default.
    public init(trustRoots: TrustRoots = .system, certificateFile: String? = nil, privateKeyFile: String? = nil,
                privateKeyPassword: String? = nil, serverName: String? = nil, minimumVersion: Version = .tls12,
                handshakeTimeout: Duration? = nil, dangerouslyDisableCertificateVerification: Bool = false) {
        self.trustRoots = trustRoots
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.privateKeyPassword = privateKeyPassword
        self.serverName = serverName
        self.minimumVersion = minimumVersion
        self.handshakeTimeout = handshakeTimeout
        self.dangerouslyDisableCertificateVerification = dangerouslyDisableCertificateVerification
    }

    /// The settings with the key password replaced by `***`.
    public var description: String {
        var parts: [String] = []
        switch trustRoots {
        case .system: parts.append("trust: system")
        case .caFile(let path): parts.append("trust: CA file \(path)")
        case .caDirectory(let path): parts.append("trust: CA directory \(path)")
        }
        if let certificateFile { parts.append("certificate: \(certificateFile)") }
        if let privateKeyFile { parts.append("key: \(privateKeyFile)") }
        if privateKeyPassword != nil { parts.append("key password: ***") }
        if let serverName { parts.append("server name: \(serverName)") }
        parts.append("minimum: \(minimumVersion == .tls12 ? "TLS 1.2" : "TLS 1.3")")
        if dangerouslyDisableCertificateVerification { parts.append("VERIFICATION DISABLED") }
        return "TLSConfiguration(\(parts.joined(separator: ", ")))"
    }
}
