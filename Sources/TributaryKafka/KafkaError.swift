#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TributaryKafkaProtocol
import TributaryTransport
import TributaryWire

/// The error type of the Kafka client: a code callers can switch on, a message that says what
/// went wrong and what to do, and context (broker, API, topic, partition, offset).
public struct KafkaError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure. Extensible: new codes are added as static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let name: String
        private init(_ name: String) { self.name = name }
        /// No broker could be reached (refused, DNS failure, connect timeout).
        public static let connectionFailed = Code("connectionFailed")
        /// An established connection broke (reset, closed by the broker, or closed after a
        /// request timed out); requests in flight on it failed.
        public static let connectionLost = Code("connectionLost")
        /// A request or operation did not complete in time.
        public static let timedOut = Code("timedOut")
        /// The broker answered with a Kafka error code; see ``brokerErrorCode``.
        public static let brokerError = Code("brokerError")
        /// Client and broker have no version of an API in common.
        public static let unsupportedVersion = Code("unsupportedVersion")
        /// The broker sent a frame that does not decode; the connection was closed.
        public static let protocolError = Code("protocolError")
        /// A record batch failed to decode (CRC mismatch, bad compression, malformed records).
        public static let corruptRecords = Code("corruptRecords")
        /// A configuration value is invalid; the message names the field.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// An argument is invalid (unknown partition, empty topic name, record too large).
        public static let invalidArgument = Code("invalidArgument")
        /// A bounded buffer is full and stayed full for as long as the configuration allows.
        public static let bufferFull = Code("bufferFull")
        /// The client, producer or consumer is closed.
        public static let closed = Code("closed")
        /// The calling task was cancelled.
        public static let cancelled = Code("cancelled")
        /// The position of a partition is out of range and the reset policy is `none`.
        public static let offsetOutOfRange = Code("offsetOutOfRange")
        /// SASL authentication failed: wrong credentials, an unknown user, a broker that could
        /// not prove it knows the password (SCRAM), or a broken exchange. Not retriable: the
        /// connection is closed; fix ``KafkaClientConfiguration/sasl``.
        public static let authenticationFailed = Code("authenticationFailed")
        /// The broker does not enable the configured SASL mechanism (or offers no SASL at all);
        /// the message names the mechanisms it offers. Not retriable.
        public static let unsupportedSASLMechanism = Code("unsupportedSASLMechanism")
        /// A transactional producer was fenced: another producer with the same transactional id
        /// started (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH), or the id is not authorized
        /// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED); ``brokerErrorCode`` says which. Fatal: close
        /// the producer; only a new one can continue the work.
        public static let producerFenced = Code("producerFenced")
        /// The open transaction failed or was aborted: records dropped by
        /// `abortTransaction()`, or a commit refused because records or offsets of the
        /// transaction failed (abort it, then begin a new one).
        public static let transactionAborted = Code("transactionAborted")
        /// A transaction call out of order (records outside a transaction, begin twice, commit
        /// without begin, a second operation while one runs); the message says what to call.
        public static let invalidTransactionState = Code("invalidTransactionState")
        /// The name of the code.
        public var description: String { name }
    }

    /// What kind of failure.
    public var code: Code
    /// What went wrong and what to do.
    public var message: String
    /// The Kafka error code for ``Code/brokerError``.
    public var brokerErrorCode: KafkaErrorCode?
    /// `host:port` of the broker involved, if any.
    public var broker: String?
    /// The API involved, if any.
    public var api: KafkaAPIKey?
    /// The topic involved, if any.
    public var topic: String?
    /// The partition involved, if any.
    public var partition: Int32?
    /// The offset involved, if any.
    public var offset: Int64?
    /// The error this one wraps.
    public var underlying: (any Error)?
    /// Set when the client already retried and decided the condition will not clear (a topic
    /// that does not exist and will not be created): ``isRetriable`` is then false whatever the
    /// broker error code says.
    var isSettled = false

    /// Creates an error.
    public init(_ code: Code, _ message: String, brokerErrorCode: KafkaErrorCode? = nil, broker: String? = nil, api: KafkaAPIKey? = nil,
                topic: String? = nil, partition: Int32? = nil, offset: Int64? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.brokerErrorCode = brokerErrorCode
        self.broker = broker
        self.api = api
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.underlying = underlying
    }

    /// An error for a Kafka error code in a response, with its name, number, meaning and hint.
    public static func broker(_ code: KafkaErrorCode, api: KafkaAPIKey? = nil, broker: String? = nil, topic: String? = nil,
                              partition: Int32? = nil, serverMessage: String? = nil) -> KafkaError {
        var text = "\(code.name) (\(code.rawValue))"
        // Broker messages often end with a period of their own.
        var trimmed = Substring(serverMessage ?? "")
        while let last = trimmed.last, last == "." || last.isWhitespace { trimmed = trimmed.dropLast() }
        if !trimmed.isEmpty { text += ": \(trimmed)" }
        text += ". \(code.summary) \(clientAdvice(code.hint))"
        return KafkaError(.brokerError, text, brokerErrorCode: code, broker: broker, api: api, topic: topic, partition: partition)
    }

    /// Whether trying again (maybe after a metadata refresh) can succeed: retriable Kafka error
    /// codes, lost connections and timeouts.
    public var isRetriable: Bool {
        if isSettled { return false }
        return switch code {
        case .brokerError: brokerErrorCode?.isRetriable ?? false
        case .connectionLost, .connectionFailed, .timedOut: true
        default: false
        }
    }

    /// The Kafka error table's hints name the Java client's property names; a Swift user sets
    /// the property of the same meaning.
    static let clientProperties: [(kafka: String, swift: String)] = [
        ("`auto.offset.reset`", "`autoOffsetReset` (`auto.offset.reset`)"),
        ("`batch.size`", "`KafkaProducerConfiguration.batchSize` (`batch.size`)"),
        ("`acks`", "`KafkaProducerConfiguration.acks` (`acks`)"),
        ("`max.request.size`", "`KafkaProducerConfiguration.maxRequestSize` (`max.request.size`)"),
        ("`request.timeout.ms`", "`KafkaClientConfiguration.requestTimeout` (`request.timeout.ms`)"),
    ]

    static func clientAdvice(_ hint: String) -> String {
        var text = hint
        for (kafka, swift) in clientProperties where text.contains(kafka) {
            text = text.replacing(kafka, with: swift)
        }
        return text
    }

    /// Whether the connection this came from is gone.
    public var isConnectionFatal: Bool {
        code == .connectionLost || code == .connectionFailed || code == .protocolError
            || code == .authenticationFailed || code == .unsupportedSASLMechanism
    }

    /// Whether the error says the client's own credentials or mechanism are wrong: trying another
    /// broker or trying again will not help.
    var isAuthenticationError: Bool { code == .authenticationFailed || code == .unsupportedSASLMechanism }

    /// Whether the error means the client's metadata is stale (leader moved, topic unknown).
    var invalidatesMetadata: Bool {
        if isConnectionFatal { return true }
        guard let brokerErrorCode else { return false }
        return brokerErrorCode == .notLeaderOrFollower || brokerErrorCode == .unknownTopicOrPartition
            || brokerErrorCode == .leaderNotAvailable || brokerErrorCode == .fencedLeaderEpoch
            || brokerErrorCode == .unknownLeaderEpoch || brokerErrorCode == .notCoordinator
            || brokerErrorCode == .coordinatorNotAvailable
    }

    /// The message with its context.
    public var description: String {
        var context: [String] = []
        if let broker { context.append("broker \(broker)") }
        if let api { context.append(api.name) }
        if let topic { context.append("topic '\(topic)'") }
        if let partition { context.append("partition \(partition)") }
        if let offset { context.append("offset \(offset)") }
        return context.isEmpty ? "Kafka \(code): \(message)" : "Kafka \(code) (\(context.joined(separator: ", "))): \(message)"
    }

    static func from(_ error: TransportError, connecting: Bool) -> KafkaError {
        KafkaError(connecting ? .connectionFailed : .connectionLost, error.description, broker: error.endpoint, underlying: error)
    }
}
