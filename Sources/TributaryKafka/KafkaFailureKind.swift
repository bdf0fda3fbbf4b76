import TributaryTransport
import TributaryWire

/// How the run loop of ``KafkaGroupConsumer`` treats an error a record handler threw.
///
/// | kind | what the run loop does |
/// |---|---|
/// | ``transient`` | retries with backoff until ``KafkaRetryPolicy/transientTimeout``, then follows the dead-letter policy |
/// | ``poison`` | retries up to ``KafkaRetryPolicy/attempts`` times, then follows the dead-letter policy |
/// | ``cancellation`` | stops: the record is not processed, not committed and never dead-lettered |
public enum KafkaFailureKind: Sendable, Hashable, CustomStringConvertible {
    /// The world failed, not the record: a lost connection, a timeout, a retriable broker error,
    /// a NATS disconnection. Trying again later can succeed.
    case transient
    /// The handler rejected the record (any error not classified otherwise).
    case poison
    /// The work was cancelled (`CancellationError`, a cancelled task, a `.cancelled` error code).
    case cancellation

    /// `transient`, `poison` or `cancellation`.
    public var description: String {
        switch self {
        case .transient: "transient"
        case .poison: "poison"
        case .cancellation: "cancellation"
        }
    }

    /// The default classification, used by ``KafkaRetryPolicy/init(attempts:backoff:maxBackoff:transientTimeout:classify:)``:
    /// - `CancellationError`, and ``KafkaError`` or NATS errors with code `cancelled`: ``cancellation``.
    /// - ``KafkaError`` whose ``KafkaError/isRetriable`` is true (lost connections, timeouts,
    ///   retriable broker error codes): ``transient``.
    /// - Errors conforming to ``KafkaTransientFailure``: ``transient`` when
    ///   ``KafkaTransientFailure/isTransientFailure`` says so.
    /// - Socket errors of the transport: ``transient``.
    /// - Errors that state their `FailureClass` (`NATSError`, `JetStreamError`; this module does
    ///   not depend on NATS): ``transient`` or ``cancellation`` as they say, else ``poison``.
    ///   For `NATSError` that means `connectionFailed`, `connectionClosed`, `disconnected`,
    ///   `staleConnection`, `timeout`, `noResponders`, `reconnectBufferExceeded` and
    ///   `outboundBufferFull` are transient.
    /// - Anything else: ``poison``.
    @Sendable public static func classify(_ error: any Error) -> KafkaFailureKind {
        if error is CancellationError { return .cancellation }
        if let kafka = error as? KafkaError {
            if kafka.code == .cancelled || kafka.underlying is CancellationError { return .cancellation }
            return kafka.isRetriable ? .transient : .poison
        }
        if let marked = error as? any KafkaTransientFailure {
            return marked.isTransientFailure ? .transient : .poison
        }
        if error is TransportError { return .transient }
        if let classified = error as? any ClassifiedFailure {
            switch classified.failureClass {
            case .transient: return .transient
            case .permanent: return .poison
            case .cancellation: return .cancellation
            }
        }
        return .poison
    }
}

/// An error that knows whether it is transient: conform your own error types (or, retroactively,
/// another library's) so that the group run loop retries them until the transient deadline
/// instead of dead-lettering the record.
///
/// ```swift
/// struct DownstreamUnavailable: Error, KafkaTransientFailure {}
/// ```
public protocol KafkaTransientFailure: Error {
    /// Whether this failure is transient. Default true.
    var isTransientFailure: Bool { get }
}

extension KafkaTransientFailure {
    /// True: conforming means transient unless the type says otherwise.
    public var isTransientFailure: Bool { true }
}
