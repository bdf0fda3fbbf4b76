/// The configuration of a key-value bucket (like nats.go `jetstream.KeyValueConfig`).
///
/// A bucket is the stream `KV_<bucket>` on subjects `$KV.<bucket>.>` keeping `history` values
/// per key, with rollups allowed, deletes denied, discard-new and direct get allowed (ADR-8).
public struct KeyValueConfig: Sendable, Hashable {
    /// Default history per key: 1 (only the latest value).
    public static let defaultHistory = 1
    /// Largest history the server-side layout allows: 64 (ADR-8).
    public static let maxHistory = 64

    /// The bucket name: letters, digits, `_` and `-`.
    public var bucket: String
    /// A description. Default nil.
    public var description: String?
    /// Values kept per key, 1 to 64. Default `defaultHistory`.
    public var history = KeyValueConfig.defaultHistory
    /// How long a value lives; nil keeps values forever. Default nil.
    public var ttl: Duration?
    /// Largest value in bytes; nil for no limit. Default nil.
    public var maxValueSize: Int?
    /// Largest size of the whole bucket in bytes; nil for no limit. Default nil.
    public var maxBytes: Int64?
    /// File or memory storage. Default `.file`.
    public var storage: StorageType = .file
    /// Replicas in a cluster, 1 to 5. Default 1.
    public var replicas = 1
    /// Compress stored values (S2). Default false.
    public var compression = false
    /// When set, the server writes a delete marker kept this long when a key's value expires
    /// (needs nats-server 2.11+; like nats.go `LimitMarkerTTL`). Default nil.
    public var limitMarkerTTL: Duration?

    /// Creates a configuration with the defaults.
    public init(bucket: String, description: String? = nil, history: Int = KeyValueConfig.defaultHistory, ttl: Duration? = nil,
                maxValueSize: Int? = nil, maxBytes: Int64? = nil, storage: StorageType = .file, replicas: Int = 1) {
        self.bucket = bucket
        self.description = description
        self.history = history
        self.ttl = ttl
        self.maxValueSize = maxValueSize
        self.maxBytes = maxBytes
        self.storage = storage
        self.replicas = replicas
    }

    /// The stream configuration of this bucket.
    ///
    /// - Throws: `.invalidBucketName`, or `.invalidArgument` naming the field out of range.
    func streamConfig() throws(KeyValueError) -> StreamConfig {
        try KeyValueNames.validateBucket(bucket)
        func invalid(_ text: String) -> KeyValueError {
            KeyValueError(.invalidArgument, "bucket '\(bucket)': \(text)", bucket: bucket)
        }
        guard (1...Self.maxHistory).contains(history) else { throw invalid("history must be 1 to \(Self.maxHistory), got \(history)") }
        guard (1...5).contains(replicas) else { throw invalid("replicas must be 1 to 5, got \(replicas)") }
        if let ttl, ttl < .zero { throw invalid("ttl may not be negative") }
        if let maxValueSize, maxValueSize < 1 { throw invalid("maxValueSize must be positive or nil, got \(maxValueSize)") }
        if let maxBytes, maxBytes < 1 { throw invalid("maxBytes must be positive or nil, got \(maxBytes)") }
        if let limitMarkerTTL, limitMarkerTTL < .seconds(1) { throw invalid("limitMarkerTTL must be at least 1 s or nil") }
        let ttlValue = ttl.flatMap { $0 > .zero ? $0 : nil }
        // Like nats.go: a duplicate window of 2 minutes, or the TTL when shorter.
        var duplicateWindow: Duration = .seconds(120)
        if let ttlValue, ttlValue < duplicateWindow { duplicateWindow = ttlValue }
        var config = StreamConfig(name: KeyValueNames.streamName(bucket), description: description,
                                  subjects: [KeyValueNames.subjectPrefix(bucket) + ">"], retention: .limits,
                                  maxConsumers: -1, maxMsgs: -1, maxBytes: maxBytes ?? -1, maxAge: ttlValue ?? .zero,
                                  maxMsgsPerSubject: Int64(history), maxMsgSize: maxValueSize ?? -1, discard: .new,
                                  storage: storage, replicas: replicas, duplicateWindow: duplicateWindow,
                                  compression: compression ? .s2 : StoreCompression.none, allowDirect: true, mirrorDirect: false,
                                  denyDelete: true, denyPurge: false, allowRollup: true)
        if let limitMarkerTTL {
            config.allowMsgTTL = true
            config.subjectDeleteMarkerTTL = limitMarkerTTL
        }
        return config
    }
}

/// The state of a bucket (like nats.go `KeyValueStatus`).
public struct KeyValueStatus: Sendable {
    /// The bucket name.
    public var bucket: String
    /// Entries stored, every revision and marker included.
    public var values: UInt64
    /// Values kept per key.
    public var history: Int
    /// How long values live; nil for forever.
    public var ttl: Duration?
    /// Bytes stored.
    public var bytes: UInt64
    /// Whether values are compressed.
    public var isCompressed: Bool
    /// Whether reads use direct get (false for buckets made without it, as nats-py does).
    public var allowsDirect: Bool
    /// Always "JetStream".
    public var backingStore: String { "JetStream" }
    /// The stream's info, for anything else.
    public var streamInfo: StreamInfo

    init(bucket: String, info: StreamInfo) {
        self.bucket = bucket
        values = info.state.messages
        history = Int(info.config.maxMsgsPerSubject ?? 1)
        ttl = info.config.maxAge.flatMap { $0 > .zero ? $0 : nil }
        bytes = info.state.bytes
        isCompressed = (info.config.compression ?? StoreCompression.none) != StoreCompression.none
        allowsDirect = info.config.allowDirect ?? false
        streamInfo = info
    }
}
