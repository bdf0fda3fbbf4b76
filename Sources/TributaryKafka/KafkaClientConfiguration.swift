import TributaryTLS
import TributaryTransport
import TributaryWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A broker address, `host:port`.
public struct KafkaBrokerAddress: Hashable, Sendable, CustomStringConvertible {
    /// Host name or IP address.
    public var host: String
    /// TCP port.
    public var port: Int

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with IPv6 literals in brackets.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `host:port[,host:port…]` (Kafka's `bootstrap.servers`); a missing port is 9092,
    /// IPv6 literals are written `[::1]:9092`, and a `PLAINTEXT://` prefix is accepted.
    ///
    /// - Throws: ``KafkaError`` with code `invalidConfiguration` naming the bad entry.
    public static func parseList(_ text: String) throws(KafkaError) -> [KafkaBrokerAddress] {
        var result: [KafkaBrokerAddress] = []
        for rawEntry in text.split(separator: ",") {
            var entry = rawEntry.trimmingSpaces
            if let range = entry.firstRange(of: "://") { entry = String(entry[range.upperBound...]) }
            guard !entry.isEmpty else { continue }
            var host = entry
            var port = 9092
            if entry.hasPrefix("[") {
                guard let close = entry.firstIndex(of: "]") else {
                    throw KafkaError(.invalidConfiguration, "broker address '\(entry)' has '[' without ']'; write IPv6 addresses as [::1]:9092")
                }
                host = String(entry[entry.index(after: entry.startIndex)..<close])
                let rest = entry[entry.index(after: close)...]
                if rest.hasPrefix(":") {
                    guard let parsed = Int(rest.dropFirst()) else {
                        throw KafkaError(.invalidConfiguration, "broker address '\(entry)' has an invalid port; expected host:port")
                    }
                    port = parsed
                }
            } else if let colon = entry.lastIndex(of: ":") {
                host = String(entry[..<colon])
                guard let parsed = Int(entry[entry.index(after: colon)...]) else {
                    throw KafkaError(.invalidConfiguration, "broker address '\(entry)' has an invalid port; expected host:port")
                }
                port = parsed
            }
            guard !host.isEmpty, (1...65535).contains(port) else {
                throw KafkaError(.invalidConfiguration, "broker address '\(entry)' is not host:port with a port in 1-65535")
            }
            result.append(KafkaBrokerAddress(host: host, port: port))
        }
        guard !result.isEmpty else {
            throw KafkaError(.invalidConfiguration, "no broker address in '\(text)'; give host:port[,host:port] or set KAFKA_BROKERS")
        }
        return result
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}

/// Settings shared by every part of the Kafka client: where to bootstrap, timeouts and retries.
///
/// `init()` gives a working setup; bootstrap servers come from `KAFKA_BROKERS` when set.
/// Printing a configuration never shows the SASL password.
public struct KafkaClientConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The default bootstrap list when `KAFKA_BROKERS` is not set: `localhost:9092`.
    public static let defaultBootstrapServers = [KafkaBrokerAddress(host: "localhost", port: 9092)]
    /// Default client id: `tributary`.
    public static let defaultClientID = "tributary"
    /// Default connect timeout: 10 s.
    public static let defaultConnectTimeout: Duration = .seconds(10)
    /// Default request timeout: 30 s (Java's `request.timeout.ms`).
    public static let defaultRequestTimeout: Duration = .seconds(30)
    /// Default first retry backoff: 100 ms (Java's `retry.backoff.ms`).
    public static let defaultRetryBackoff: Duration = .milliseconds(100)
    /// Default longest retry backoff: 1 s (Java's `retry.backoff.max.ms`).
    public static let defaultRetryBackoffMax: Duration = .seconds(1)
    /// Default deadline for retrying an admin or metadata operation: 60 s.
    public static let defaultOperationTimeout: Duration = .seconds(60)
    /// Default largest response frame accepted: 100 MiB.
    public static let defaultMaxResponseSize = 100 * 1024 * 1024

    /// The brokers to bootstrap from, like Kafka's `bootstrap.servers`. Default: the
    /// `KAFKA_BROKERS` environment variable, else `localhost:9092`.
    public var bootstrapServers: [KafkaBrokerAddress]
    /// Sent in every request header, like Kafka's `client.id`. Default `tributary`.
    public var clientID: String = KafkaClientConfiguration.defaultClientID
    /// How long one TCP connect may take (per resolved address). Default 10 s.
    public var connectTimeout: Duration = KafkaClientConfiguration.defaultConnectTimeout
    /// How long a request may wait for its response before the connection is closed and the
    /// request fails, like Kafka's `request.timeout.ms`. Default 30 s.
    public var requestTimeout: Duration = KafkaClientConfiguration.defaultRequestTimeout
    /// First backoff between retries, doubled per attempt with jitter, like `retry.backoff.ms`.
    /// Default 100 ms.
    public var retryBackoff: Duration = KafkaClientConfiguration.defaultRetryBackoff
    /// Longest backoff between retries, like `retry.backoff.max.ms`. Default 1 s.
    public var retryBackoffMax: Duration = KafkaClientConfiguration.defaultRetryBackoffMax
    /// How long metadata and admin calls retry retriable errors before failing. Default 60 s.
    public var operationTimeout: Duration = KafkaClientConfiguration.defaultOperationTimeout
    /// The largest response frame accepted; larger ones close the connection with a protocol
    /// error. Default 100 MiB.
    public var maxResponseSize: Int = KafkaClientConfiguration.defaultMaxResponseSize
    /// Whether metadata requests may create missing topics (if the broker allows it), like
    /// `allow.auto.create.topics`. Default false: a producer then fails a record for a missing
    /// topic with `UNKNOWN_TOPIC_OR_PARTITION` once two metadata answers said it does not exist.
    public var allowAutoTopicCreation = false
    /// Whether the client reports every request it sends on ``KafkaClient/requestTraces``, like
    /// librdkafka's `debug=protocol`. Default false.
    public var traceRequests = false
    /// How connections are secured, like `security.protocol`. Default `.plaintext`;
    /// `.saslPlaintext` authenticates every connection with ``sasl``; `.ssl` runs every
    /// connection over TLS (``tls``); `.saslSSL` does both.
    public var securityProtocol: KafkaSecurityProtocol = KafkaClientConfiguration.defaultSecurityProtocol
    /// SASL mechanism and credentials, like `sasl.mechanism`, `sasl.username` and
    /// `sasl.password` (or an OAUTHBEARER token provider, ``KafkaSASL/oauthBearer(tokenProvider:)``).
    /// Default nil. Needs ``securityProtocol`` `.saslPlaintext` or `.saslSSL`.
    public var sasl: KafkaSASL?
    /// TLS settings for `.ssl` and `.saslSSL`, like `ssl.ca.location`, `ssl.certificate.location`,
    /// `ssl.key.location` and `ssl.key.password`. Default nil: the system's trust store, the
    /// broker's host name checked, TLS 1.2 or newer. Setting it with `.plaintext` or
    /// `.saslPlaintext` is a configuration error.
    public var tls: TLSConfiguration?
    /// Opens each broker connection's byte stream (default: TCP, `SocketStream.tcp`). With TLS
    /// the handshake runs over the stream it opens. It runs on
    /// the connection's I/O thread, which then performs every read and write of the stream, so a
    /// stream that must stay on one thread (`allowsConcurrentWrite == false`, such as TLS) fits.
    public var streamFactory: TransportStreamFactory = SocketStream.tcp
    /// Where connections report requests when ``traceRequests`` is on (set by the client).
    var tracer: KafkaRequestTracer?

    /// The default security protocol: `.plaintext`.
    public static let defaultSecurityProtocol = KafkaSecurityProtocol.plaintext

    /// A configuration with every default; bootstrap servers from `KAFKA_BROKERS` if it is set
    /// and valid.
    public init() {
        if let value = getenv("KAFKA_BROKERS"), let list = try? KafkaBrokerAddress.parseList(String(cString: value)) {
            bootstrapServers = list
        } else {
            bootstrapServers = Self.defaultBootstrapServers
        }
    }

    /// A configuration that bootstraps from `servers` (`host:port[,host:port]`).
    ///
    /// - Throws: ``KafkaError`` with code `invalidConfiguration` for a malformed list.
    public init(bootstrapServers servers: String) throws(KafkaError) {
        self.init()
        self.bootstrapServers = try KafkaBrokerAddress.parseList(servers)
    }

    /// The factory connections open their streams with: ``streamFactory``, wrapped in TLS for
    /// `.ssl` and `.saslSSL`.
    var connectionStreamFactory: TransportStreamFactory {
        guard securityProtocol.usesTLS else { return streamFactory }
        return TLSStream.factory(tls ?? TLSConfiguration(), tcp: streamFactory)
    }

    func validate() throws(KafkaError) {
        guard !bootstrapServers.isEmpty else { throw KafkaError(.invalidConfiguration, "bootstrapServers is empty; give at least one host:port") }
        guard connectTimeout > .zero else { throw KafkaError(.invalidConfiguration, "connectTimeout must be positive") }
        guard requestTimeout > .zero else { throw KafkaError(.invalidConfiguration, "requestTimeout must be positive") }
        guard maxResponseSize >= 1024 else { throw KafkaError(.invalidConfiguration, "maxResponseSize must be at least 1024 bytes") }
        if !securityProtocol.usesTLS, tls != nil {
            throw KafkaError(.invalidConfiguration, "tls is set but securityProtocol is \(securityProtocol), which does not use TLS; set securityProtocol = .ssl or .saslSSL (like security.protocol=SSL)")
        }
        if securityProtocol.usesSASL {
            guard let sasl else {
                throw KafkaError(.invalidConfiguration, "securityProtocol is \(securityProtocol) but sasl is nil; set KafkaClientConfiguration.sasl, e.g. .scramSHA512(username:password:) (like sasl.mechanism, sasl.username and sasl.password)")
            }
            if sasl.mechanism == .oauthBearer {
                guard sasl.tokenSource != nil else {
                    throw KafkaError(.invalidConfiguration, "sasl.mechanism is OAUTHBEARER but sasl has no token provider; set KafkaClientConfiguration.sasl = .oauthBearer(tokenProvider:)")
                }
            } else {
                guard !sasl.username.isEmpty, !sasl.username.utf8.contains(0) else {
                    throw KafkaError(.invalidConfiguration, "sasl.username must not be empty or contain NUL")
                }
                if sasl.mechanism == .plain, sasl.password.utf8.contains(0) {
                    throw KafkaError(.invalidConfiguration, "sasl.password must not contain NUL for PLAIN")
                }
            }
        } else if let sasl {
            throw KafkaError(.invalidConfiguration, "sasl is set (\(sasl.mechanism)) but securityProtocol is \(securityProtocol), which does not authenticate; set securityProtocol = .saslPlaintext or .saslSSL (like security.protocol=SASL_PLAINTEXT)")
        }
    }

    /// Every setting, with the SASL password redacted.
    public var description: String {
        let servers = bootstrapServers.map(\.description).joined(separator: ",")
        return "KafkaClientConfiguration(bootstrapServers: \(servers), clientID: \(clientID), securityProtocol: \(securityProtocol), "
            + "sasl: \(sasl.map(\.description) ?? "nil"), tls: \(tls.map(\.description) ?? "nil"), connectTimeout: \(connectTimeout), requestTimeout: \(requestTimeout), "
            + "retryBackoff: \(retryBackoff), retryBackoffMax: \(retryBackoffMax), operationTimeout: \(operationTimeout), "
            + "maxResponseSize: \(maxResponseSize), allowAutoTopicCreation: \(allowAutoTopicCreation), traceRequests: \(traceRequests))"
    }

    /// Same as ``description``.
    public var debugDescription: String { description }
}

extension Duration {
    /// This duration in whole milliseconds for an int32 `…Ms` field, clamped.
    var kafkaMilliseconds: Int32 { Int32(clamping: nanosecondsClamped / 1_000_000) }
}
