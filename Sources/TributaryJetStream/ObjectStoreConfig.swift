/// Settings of an object store bucket, like nats.go's `ObjectStoreConfig`. `init(bucket:)`
/// gives a working setup: file storage, one replica, no limits.
public struct ObjectStoreConfig: Sendable, Hashable {
    /// The bucket name: letters, digits, `_` and `-` (the stream is `OBJ_<bucket>`).
    public var bucket: String
    /// A description of the bucket. Default nil.
    public var description: String?
    /// How long objects are kept (the stream's `max_age`), like nats.go `TTL`. Default nil: forever.
    public var ttl: Duration?
    /// Size limit of the whole bucket in bytes, like nats.go `MaxBytes`. Default nil: unlimited.
    /// Puts past it fail (discard new).
    public var maxBytes: Int64?
    /// Where the stream stores data. Default `.file`.
    public var storage: StorageType = .file
    /// Copies kept in a cluster. Default 1.
    public var replicas = 1
    /// Placement in a cluster. Default nil.
    public var placement: Placement?
    /// Compress the stream's storage (server 2.10+). Default false.
    public var compression = false
    /// Bucket metadata (server 2.10+). Default nil.
    public var metadata: [String: String]?

    /// Creates a configuration for `bucket`.
    public init(bucket: String) {
        self.bucket = bucket
    }

    /// The stream configuration ADR-20 prescribes for this bucket.
    public var streamConfig: StreamConfig {
        var config = StreamConfig(name: ObjectStore.streamName(bucket: bucket))
        config.description = description
        config.subjects = [ObjectStore.allChunksSubject(bucket: bucket), ObjectStore.allMetaSubject(bucket: bucket)]
        config.maxAge = ttl ?? .zero
        config.maxBytes = maxBytes ?? -1
        config.storage = storage
        config.replicas = replicas
        config.placement = placement
        config.discard = .new
        config.allowRollup = true
        config.allowDirect = true
        if compression { config.compression = .s2 }
        config.metadata = metadata
        return config
    }
}

/// The state of an object store bucket (nats.go `ObjectStoreStatus`).
public struct ObjectStoreStatus: Sendable {
    /// The bucket name.
    public var bucket: String
    /// The description, if any.
    public var description: String?
    /// How long objects are kept; nil for forever.
    public var ttl: Duration?
    /// The storage type.
    public var storage: StorageType
    /// The number of replicas.
    public var replicas: Int
    /// True when the bucket is sealed (read-only).
    public var sealed: Bool
    /// Bytes stored, data and records together.
    public var size: UInt64
    /// Always "JetStream".
    public var backingStore: String { "JetStream" }
    /// Bucket metadata (the server adds its own `_nats.*` keys).
    public var metadata: [String: String]
    /// The backing stream's info.
    public var streamInfo: StreamInfo

    /// Reads a bucket's status from its stream's info.
    public init(streamInfo info: StreamInfo) {
        let name = info.config.name
        bucket = name.hasPrefix("OBJ_") ? String(name.dropFirst(4)) : name
        description = info.config.description
        ttl = info.config.maxAge.flatMap { $0 == .zero ? nil : $0 }
        storage = info.config.storage ?? .file
        replicas = info.config.replicas ?? 1
        sealed = info.config.sealed ?? false
        size = info.state.bytes
        metadata = info.config.metadata ?? [:]
        streamInfo = info
    }
}
