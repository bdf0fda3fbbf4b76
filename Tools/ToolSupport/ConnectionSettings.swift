import TributaryNATS

/// The connection flags every nats-* tool accepts, parsed into values, and the `NATSOptions`
/// built from them.
///
/// Flags (like the nats CLI): `-s/--server URL` (comma-separated list allowed; default
/// `$NATS_URL`, else `nats://127.0.0.1:4222`), `--user`, `--password`, `--token`, `--name`,
/// `--timeout D`, and TLS: `--tlscert FILE`, `--tlskey FILE`, `--tlsca FILE` (or `NATS_CERT`,
/// `NATS_KEY`, `NATS_CA`) and `--tlsfirst`; NKEY/JWT credentials: the flags of
/// `CredentialSettings` (`--creds`, `--nkey`, or `NATS_CREDS`, `NATS_NKEY`).
public struct ConnectionSettings: Sendable, Equatable {
    /// The server used when neither `--server` nor `NATS_URL` is given.
    public static let defaultServer = NATSOptions.defaultServer
    /// The smallest wait for the final flush, however short `--timeout` is: 10 s.
    public static let minimumFlushTimeout: Duration = NATSOptions.defaultFlushTimeout

    /// The flag definitions, for `CommandSpec.flags`. `defaultTimeout` is stated in the help line.
    public static func flags(defaultTimeout: Duration, timeoutHelp: String = "connect timeout") -> [FlagSpec] {
        [
            .value("server", short: "s", placeholder: "URL",
                   help: "NATS server URL(s), comma-separated (default: $NATS_URL, else \(defaultServer))"),
            .value("user", placeholder: "USER", help: "user name for user/password authentication"),
            .value("password", placeholder: "PASSWORD", help: "password for user/password authentication"),
            .value("token", placeholder: "TOKEN", help: "authentication token"),
            .value("name", placeholder: "NAME", help: "connection name shown in server monitoring"),
            .value("timeout", placeholder: "D",
                   help: "\(timeoutHelp), e.g. 500ms, 2s, 1m (default \(DurationSyntax.format(defaultTimeout)))"),
        ] + tlsFlags + CredentialSettings.flags
    }

    // MARK: TLS flags (natscli's names and environment variables)

    static let tlsFlags: [FlagSpec] = [
        .value("tlscert", placeholder: "FILE", help: "TLS client certificate file, for mutual TLS (default: $NATS_CERT)"),
        .value("tlskey", placeholder: "FILE", help: "TLS client private key file (default: $NATS_KEY)"),
        .value("tlsca", placeholder: "FILE", help: "TLS CA file that signed the server's certificate (default: $NATS_CA, else the system trust store)"),
        .boolean("tlsfirst", help: "start TLS before the server's greeting (servers with handshake_first)"),
    ]

    /// TLS settings from `--tlscert/--tlskey/--tlsca/--tlsfirst` and `NATS_CERT/NATS_KEY/NATS_CA`;
    /// nil when none is given (TLS then follows the URL scheme and the server's INFO).
    static func tlsSettings(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) -> (TLSConfiguration?, Bool) {
        func pick(_ flag: String, _ variable: String) -> String? {
            if let value = arguments.value(flag) { return value }
            if let value = environment[variable], !value.trimmingSpaces().isEmpty { return value }
            return nil
        }
        let certificate = pick("tlscert", "NATS_CERT")
        let key = pick("tlskey", "NATS_KEY")
        let ca = pick("tlsca", "NATS_CA")
        let first = arguments.isSet("tlsfirst")
        if (certificate == nil) != (key == nil) {
            throw UsageError("--tlscert and --tlskey go together: give both (client certificate and its key) or neither")
        }
        guard certificate != nil || ca != nil || first else { return (nil, false) }
        var configuration = TLSConfiguration()
        if let ca { configuration.trustRoots = .caFile(ca) }
        configuration.certificateFile = certificate
        configuration.privateKeyFile = key
        return (configuration, first)
    }

    /// Server URLs exactly as given (may contain credentials; never print this, see `displayServers`).
    public var servers: String
    /// `--user`, if given.
    public var user: String?
    /// `--password`, if given.
    public var password: String?
    /// `--token`, if given.
    public var token: String?
    /// Connection name (`--name`, default: the tool name).
    public var name: String
    /// `--timeout`, or the tool's default.
    public var timeout: Duration
    /// TLS settings from the TLS flags, if any was given.
    public var tls: TLSConfiguration?
    /// `--tlsfirst`.
    public var tlsFirst: Bool
    /// `--creds` / `--nkey` (or `NATS_CREDS` / `NATS_NKEY`).
    public var credentials: CredentialSettings

    /// Reads the connection flags from `arguments`, falling back to `environment["NATS_URL"]`.
    ///
    /// - Parameters:
    ///   - toolName: default connection name.
    ///   - defaultTimeout: used when `--timeout` is absent.
    /// - Throws: `UsageError` for a malformed server URL, an empty `--server`, or a bad or zero `--timeout`.
    public init(_ arguments: ParsedArguments, environment: [String: String], toolName: String,
                defaultTimeout: Duration) throws(UsageError) {
        if let flag = arguments.value("server") {
            servers = flag
        } else if let env = environment["NATS_URL"], !env.trimmingSpaces().isEmpty {
            servers = env
        } else {
            servers = Self.defaultServer
        }
        let parts = servers.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
        guard !parts.isEmpty else { throw UsageError("--server needs at least one URL such as \(Self.defaultServer)") }
        for part in parts {
            do {
                _ = try NATSServerAddress(parsing: part)
            } catch {
                throw UsageError("invalid server URL: \(error.message)")
            }
        }
        user = arguments.value("user")
        password = arguments.value("password")
        token = arguments.value("token")
        name = arguments.value("name") ?? toolName
        let timeout = try arguments.duration("timeout") ?? defaultTimeout
        guard timeout > .zero else { throw UsageError("--timeout must be greater than 0") }
        self.timeout = timeout
        (tls, tlsFirst) = try Self.tlsSettings(arguments, environment: environment)
        credentials = try CredentialSettings(arguments, environment: environment)
    }

    /// The servers without credentials, comma-separated, for messages (`nats://127.0.0.1:4222`).
    public var displayServers: String {
        servers.split(separator: ",")
            .map { String($0).trimmingSpaces() }
            .filter { !$0.isEmpty }
            .map { part in (try? NATSServerAddress(parsing: part))?.description ?? part }
            .joined(separator: ", ")
    }

    /// Client options: servers, credentials, name; `timeout` as connect and request timeout;
    /// flush timeout `max(timeout, minimumFlushTimeout)`.
    public var natsOptions: NATSOptions {
        var options = NATSOptions(url: servers)
        options.user = user
        options.password = password
        options.token = token
        options.credentials = credentials.credentials
        options.name = name
        options.connectTimeout = timeout
        options.requestTimeout = timeout
        options.flushTimeout = max(timeout, Self.minimumFlushTimeout)
        options.tls = tls
        options.tlsHandshakeFirst = tlsFirst
        return options
    }
}
