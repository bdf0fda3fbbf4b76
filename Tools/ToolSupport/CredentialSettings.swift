import TributaryNATS

/// The NKEY/JWT credential flags of the nats-* tools, like the nats CLI's: `--creds FILE` (a
/// `.creds` file, default `$NATS_CREDS`) and `--nkey FILE` (a user seed file, default
/// `$NATS_NKEY`). Kept apart from the other connection flags so that each kind of setting
/// (credentials, TLS) lives in its own type.
///
/// A flag wins over both environment variables. `--creds` and `--nkey` together, or
/// `NATS_CREDS` and `NATS_NKEY` together without a flag, are a usage error: the server
/// accepts one identity per connection.
public struct CredentialSettings: Sendable, Equatable {
    /// The flag definitions, for `CommandSpec.flags`.
    public static let flags: [FlagSpec] = [
        .value("creds", placeholder: "FILE", help: "user credentials (.creds) file for JWT authentication (default: $NATS_CREDS)"),
        .value("nkey", placeholder: "FILE", help: "user NKEY seed file for nkey authentication (default: $NATS_NKEY)"),
    ]

    /// The `.creds` file, from `--creds` or `NATS_CREDS`.
    public var credsFile: String?
    /// The seed file, from `--nkey` or `NATS_NKEY`.
    public var nkeyFile: String?

    /// No credentials.
    public init() {}

    /// Reads `--creds` and `--nkey` from `arguments`, else `NATS_CREDS` / `NATS_NKEY` from `environment`.
    ///
    /// - Throws: `UsageError` for an empty path or both kinds at once.
    public init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        try self.init(creds: arguments.value("creds"), nkey: arguments.value("nkey"), environment: environment)
    }

    /// The same rules for tools with their own flag parser: `creds`/`nkey` are the flag values
    /// (nil when not given).
    public init(creds: String?, nkey: String?, environment: [String: String]) throws(UsageError) {
        if creds != nil || nkey != nil {
            if creds != nil && nkey != nil {
                throw UsageError("--creds and --nkey exclude each other: give a creds file (JWT authentication) or an NKEY seed file (nkey user)")
            }
            credsFile = creds
            nkeyFile = nkey
        } else {
            let envCreds = environment["NATS_CREDS"].flatMap { $0.isEmpty ? nil : $0 }
            let envNkey = environment["NATS_NKEY"].flatMap { $0.isEmpty ? nil : $0 }
            if envCreds != nil && envNkey != nil {
                throw UsageError("NATS_CREDS and NATS_NKEY are both set: unset one, or choose with --creds or --nkey")
            }
            credsFile = envCreds
            nkeyFile = envNkey
        }
        if credsFile?.isEmpty == true { throw UsageError("--creds needs a file path") }
        if nkeyFile?.isEmpty == true { throw UsageError("--nkey needs a file path") }
    }

    /// The client credentials; files are read at each connect.
    public var credentials: NATSCredentials? {
        if let credsFile { return .credsFile(credsFile) }
        if let nkeyFile { return .nkeySeedFile(nkeyFile) }
        return nil
    }
}
