#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TributaryNATSProtocol
import TributaryTLS
import TributaryTransport
import TributaryWire

/// Connection settings. `init()` gives a working setup; each default is a named constant.
///
/// Validation happens at `NATSClient.connect`, which throws `.invalidConfiguration` naming the field.
public struct NATSOptions: Sendable {
    /// Default server when neither `servers` nor `NATS_URL` is set.
    public static let defaultServer = "nats://127.0.0.1:4222"
    /// Default connect timeout per address: 2 s (like nats.go `Timeout`).
    public static let defaultConnectTimeout: Duration = .seconds(2)
    /// Default keep-alive PING interval: 2 min (like nats.go `PingInterval`).
    public static let defaultPingInterval: Duration = .seconds(120)
    /// Default PINGs without PONG before the connection is stale: 2 (like nats.go `MaxPingsOut`).
    public static let defaultMaxPingsOutstanding = 2
    /// Default reconnect attempts per server: 60 (like nats.go `MaxReconnect`); -1 means forever.
    public static let defaultMaxReconnectAttempts = 60
    /// Default wait before retrying the same server: 2 s (like nats.go `ReconnectWait`).
    public static let defaultReconnectWait: Duration = .seconds(2)
    /// Default random extra wait: up to 100 ms (like nats.go `ReconnectJitter`).
    public static let defaultReconnectJitter: Duration = .milliseconds(100)
    /// Default bound of outbound bytes not yet confirmed by the server: 8 MiB (like nats.go `ReconnectBufSize`).
    public static let defaultReconnectBufferSize = 8 * 1024 * 1024
    /// Default per-subscription pending message limit: 524,288 (like nats.go `DefaultSubPendingMsgsLimit`).
    public static let defaultMaxPendingMessages = 512 * 1024
    /// Default per-subscription pending byte limit: 64 MiB (like nats.go `DefaultSubPendingBytesLimit`).
    public static let defaultMaxPendingBytes = 64 * 1024 * 1024
    /// Default request timeout: 5 s.
    public static let defaultRequestTimeout: Duration = .seconds(5)
    /// Default flush timeout: 10 s.
    public static let defaultFlushTimeout: Duration = .seconds(10)
    /// Default drain timeout: 30 s (like nats.go `DrainTimeout`).
    public static let defaultDrainTimeout: Duration = .seconds(30)
    /// Default time `publish` waits for room in a full outbound buffer while connected: 5 s.
    public static let defaultPublishWaitTimeout: Duration = .seconds(5)
    /// Default inbox prefix: `_INBOX`.
    public static let defaultInboxPrefix = "_INBOX"
    /// Default window within which the client leaves a lame-duck server (30 s).
    public static let defaultLameDuckWindow: Duration = .seconds(30)
    /// Default time `close()` waits for the server to confirm what was written (2 s).
    public static let defaultCloseTimeout: Duration = .seconds(2)

    /// Server URLs (`nats://[user:pass@|token@]host[:port]`, comma-separated entries allowed).
    /// Default: the `NATS_URL` environment variable, else `nats://127.0.0.1:4222`.
    public var servers: [String]
    /// Connection name shown in server monitoring (like nats.go `Name`).
    public var name: String?
    /// User for user/password authentication (a URL's user info takes precedence).
    public var user: String?
    /// Password for user/password authentication.
    public var password: String?
    /// Authentication token.
    public var token: String?
    /// NKEY or JWT credentials (a creds file, a seed, a JWT and seed, or signing callbacks); nil
    /// (the default) sends none. Like nats.go `UserCredentials`, `NkeyOptionFromSeed`,
    /// `UserJWTAndSeed`, `Nkey` and `UserJWT`. Files are read again on every connect and
    /// reconnect; see `NATSCredentials`.
    public var credentials: NATSCredentials?
    /// TLS settings (trusted CAs, client certificate for mutual TLS, server name). When set, every
    /// server must speak TLS. When nil, TLS is still used, with the defaults (system trust store,
    /// name verification), for `tls://` URLs and for servers whose INFO requires it.
    public var tls: TLSConfiguration?
    /// Start TLS before the server's INFO (servers configured with `handshake_first`), instead of
    /// upgrading after it. Default false. Implies TLS.
    public var tlsHandshakeFirst = false
    /// Ask the server for strict checking of subjects (like nats.go `Pedantic`). Default false.
    public var pedantic = false
    /// Receive this connection's own publishes on matching subscriptions (like nats.go `NoEcho` inverted). Default true.
    public var echo = true
    /// Timeout of each TCP connect plus handshake. Default `defaultConnectTimeout`.
    public var connectTimeout = NATSOptions.defaultConnectTimeout
    /// Keep-alive PING interval. Default `defaultPingInterval`.
    public var pingInterval = NATSOptions.defaultPingInterval
    /// Unanswered keep-alive PINGs before the connection counts as stale. Default `defaultMaxPingsOutstanding`.
    public var maxPingsOutstanding = NATSOptions.defaultMaxPingsOutstanding
    /// Reconnect after a lost connection. Default true.
    public var allowReconnect = true
    /// Reconnect attempts per server before it is dropped; -1 for no limit. Default `defaultMaxReconnectAttempts`.
    public var maxReconnectAttempts = NATSOptions.defaultMaxReconnectAttempts
    /// Wait before the same server is tried again. Default `defaultReconnectWait`.
    public var reconnectWait = NATSOptions.defaultReconnectWait
    /// Random extra wait added to `reconnectWait`. Default `defaultReconnectJitter`.
    public var reconnectJitter = NATSOptions.defaultReconnectJitter
    /// Bound on outbound bytes the server has not confirmed, including publishes made while disconnected.
    /// Default `defaultReconnectBufferSize`. While disconnected, a publish over the bound throws
    /// `.reconnectBufferExceeded`; while connected it waits up to `publishWaitTimeout`.
    public var reconnectBufferSize = NATSOptions.defaultReconnectBufferSize
    /// Pending message limit of each new subscription. Default `defaultMaxPendingMessages`.
    public var maxPendingMessages = NATSOptions.defaultMaxPendingMessages
    /// Pending byte limit of each new subscription. Default `defaultMaxPendingBytes`.
    public var maxPendingBytes = NATSOptions.defaultMaxPendingBytes
    /// Default timeout of `request`. Default `defaultRequestTimeout`.
    public var requestTimeout = NATSOptions.defaultRequestTimeout
    /// Timeout of `flush`. Default `defaultFlushTimeout`.
    public var flushTimeout = NATSOptions.defaultFlushTimeout
    /// Timeout of `drain`. Default `defaultDrainTimeout`.
    public var drainTimeout = NATSOptions.defaultDrainTimeout
    /// How long `publish` waits for room when the outbound buffer is full while connected. Default `defaultPublishWaitTimeout`.
    public var publishWaitTimeout = NATSOptions.defaultPublishWaitTimeout
    /// Do not shuffle the server list (like nats.go `DontRandomize`). Default false.
    public var noRandomize = false
    /// Prefix of reply subjects created for requests. Default `defaultInboxPrefix`.
    public var inboxPrefix = NATSOptions.defaultInboxPrefix
    /// Longest control line accepted from the server. Default 4096.
    public var maxControlLine = NATSProtocolConstants.maxControlLineBytes
    /// Give up reconnecting once disconnected this long, whatever `maxReconnectAttempts` says
    /// (nil, the default: no time limit). Combine with `maxReconnectAttempts = -1` to retry for
    /// exactly this long.
    public var reconnectTimeLimit: Duration?
    /// When a server announces lame-duck mode, the client moves to another server at a random
    /// moment within this window (default 30 s), so that a cluster's clients do not all reconnect
    /// at once. Zero moves at once.
    public var lameDuckWindow = NATSOptions.defaultLameDuckWindow
    /// How long `close()` waits for the server to confirm what was written (default 2 s).
    public var closeTimeout = NATSOptions.defaultCloseTimeout
    /// Opens the connection's byte stream (default: TCP). Tests hand in an in-memory stream;
    /// it runs on the connection's I/O thread.
    public var streamFactory: TransportStreamFactory = SocketStream.tcp
    /// The clock the connection's timers run on (default: the system's monotonic clock). Tests
    /// hand in a manual clock.
    public var clock: any MonotonicClock = SystemMonotonicClock()

    /// Creates options with the defaults; `servers` comes from `NATS_URL` when set.
    public init() {
        if let raw = getenv("NATS_URL"), case let env = String(cString: raw), !env.isEmpty {
            servers = [env]
        } else {
            servers = [NATSOptions.defaultServer]
        }
    }

    /// Creates options for the given server URL(s) (comma-separated lists allowed).
    public init(url: String) {
        self.init()
        servers = [url]
    }

    /// Validates the settings and parses the server list.
    func validatedServers() throws(NATSError) -> [NATSServerAddress] {
        func bad(_ field: String, _ why: String) -> NATSError {
            NATSError(.invalidConfiguration, "invalid NATSOptions.\(field): \(why)")
        }
        if connectTimeout <= .zero { throw bad("connectTimeout", "must be positive") }
        if pingInterval <= .zero { throw bad("pingInterval", "must be positive") }
        if maxPingsOutstanding < 1 { throw bad("maxPingsOutstanding", "must be at least 1") }
        if reconnectBufferSize < 1024 { throw bad("reconnectBufferSize", "must be at least 1024 bytes") }
        if maxPendingMessages < 1 { throw bad("maxPendingMessages", "must be at least 1") }
        if maxPendingBytes < 1 { throw bad("maxPendingBytes", "must be at least 1") }
        if maxReconnectAttempts < -1 { throw bad("maxReconnectAttempts", "must be -1 (forever) or more") }
        if let reconnectTimeLimit, reconnectTimeLimit <= .zero { throw bad("reconnectTimeLimit", "must be positive, or nil for no limit") }
        if lameDuckWindow < .zero { throw bad("lameDuckWindow", "must not be negative") }
        if closeTimeout < .zero { throw bad("closeTimeout", "must not be negative") }
        if maxControlLine < 64 { throw bad("maxControlLine", "must be at least 64") }
        try credentials?.validate()
        if inboxPrefix.isEmpty || NATSValidation.subjectProblem(inboxPrefix) != nil {
            throw bad("inboxPrefix", "'\(inboxPrefix)' is not a valid subject prefix")
        }
        var result: [NATSServerAddress] = []
        for entry in servers {
            for part in entry.split(separator: ",") {
                let text = String(part.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
                if text.isEmpty { continue }
                do {
                    result.append(try NATSServerAddress(parsing: text))
                } catch {
                    throw bad("servers", error.message)
                }
            }
        }
        if result.isEmpty { throw bad("servers", "no server URL given; set NATS_URL or NATSOptions.servers") }
        return result
    }
}

