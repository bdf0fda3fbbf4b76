import TributaryNATS

/// The error type of the key-value store: a code callers switch on (compare-and-set conflicts
/// have their own), the rule a bad key or bucket name broke, and the JetStream error underneath.
///
/// Descriptions say what went wrong and what to do; they never contain values.
public struct KeyValueError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure. Extensible: new codes are added as static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let name: String
        private init(_ name: String) { self.name = name }
        /// The key has no value: never written, or its last operation was a delete or purge.
        public static let keyNotFound = Code("keyNotFound")
        /// `create` found the key holding a value (compare-and-set conflict).
        public static let keyExists = Code("keyExists")
        /// `update`, `delete` or `purge` with a last revision found another revision (compare-and-set conflict).
        public static let wrongLastRevision = Code("wrongLastRevision")
        /// The bucket does not exist.
        public static let bucketNotFound = Code("bucketNotFound")
        /// A bucket with this name exists with another configuration.
        public static let bucketExists = Code("bucketExists")
        /// The key breaks a rule (see ``KeyValueError/keyRule``); nothing was sent.
        public static let invalidKey = Code("invalidKey")
        /// The bucket name breaks a rule (see ``KeyValueError/bucketRule``); nothing was sent.
        public static let invalidBucketName = Code("invalidBucketName")
        /// A configuration or option is invalid (the message names it); nothing was sent.
        public static let invalidArgument = Code("invalidArgument")
        /// The stream behind the bucket holds a message that is not a key-value entry.
        public static let invalidEntry = Code("invalidEntry")
        /// Any other JetStream failure (timeout, connection, server refusal); see ``KeyValueError/underlying``.
        public static let jetStream = Code("jetStream")
        /// The calling task was cancelled.
        public static let cancelled = Code("cancelled")
        /// The code's name.
        public var description: String { name }
    }

    /// What kind of failure.
    public var code: Code
    /// What went wrong and what to do.
    public var message: String
    /// The bucket involved, if any.
    public var bucket: String?
    /// The key involved, if any.
    public var key: String?
    /// For `.invalidKey`: the rule the key broke.
    public var keyRule: KeyValueKeyRule?
    /// For `.invalidBucketName`: the rule the name broke.
    public var bucketRule: KeyValueBucketNameRule?
    /// The JetStream error this one wraps, if any.
    public var underlying: JetStreamError?

    /// Creates an error.
    public init(_ code: Code, _ message: String, bucket: String? = nil, key: String? = nil, keyRule: KeyValueKeyRule? = nil,
                bucketRule: KeyValueBucketNameRule? = nil, underlying: JetStreamError? = nil) {
        self.code = code
        self.message = message
        self.bucket = bucket
        self.key = key
        self.keyRule = keyRule
        self.bucketRule = bucketRule
        self.underlying = underlying
    }

    /// True when trying again (maybe later) can succeed.
    public var isRetriable: Bool { underlying?.isRetriable ?? false }

    /// The message, then the cause.
    public var description: String {
        var text = message
        if let underlying { text += "; cause: \(underlying)" }
        return text
    }

    /// Wraps a JetStream error, keeping `.cancelled` as its own code.
    static func wrap(_ error: JetStreamError, _ what: String, bucket: String, key: String? = nil) -> KeyValueError {
        if error.code == .cancelled {
            return KeyValueError(.cancelled, "\(what) was cancelled", bucket: bucket, key: key, underlying: error)
        }
        if error.code == .streamNotFound {
            return KeyValueError(.bucketNotFound, "bucket '\(bucket)' does not exist; create the bucket first", bucket: bucket, key: key, underlying: error)
        }
        return KeyValueError(.jetStream, "\(what) failed: \(error.message)", bucket: bucket, key: key, underlying: error)
    }
}

extension KeyValueError: ClassifiedFailure {
    /// `.cancellation` for `.cancelled`, `.transient` when `isRetriable`, else `.permanent`.
    public var failureClass: FailureClass {
        if code == .cancelled { return .cancellation }
        return isRetriable ? .transient : .permanent
    }
}
