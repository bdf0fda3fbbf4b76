import TributaryCompression

/// How many replicas must have a record before the broker acknowledges it, like Kafka's `acks`.
public enum KafkaAcks: Int16, Sendable, Hashable, CustomStringConvertible {
    /// `acks=0`: the broker sends no response; the producer cannot know the offset or a failure
    /// on the broker (connection failures are still reported).
    case none = 0
    /// `acks=1`: the leader has written it.
    case leader = 1
    /// `acks=all` (-1): every in-sync replica has it.
    case all = -1

    /// `0`, `1` or `all`.
    public var description: String {
        switch self {
        case .none: "0"
        case .leader: "1"
        case .all: "all"
        }
    }
}

/// Whether a producer is idempotent, like Kafka's `enable.idempotence`.
public enum KafkaIdempotence: Sendable, Hashable, CustomStringConvertible {
    /// Idempotent when the other settings allow it (`acks=all`, at most 5 requests in flight
    /// per connection), as the Java client does when `enable.idempotence` is not set. The default.
    case automatic
    /// Idempotent; settings that do not allow it are a configuration error naming the field.
    case enabled
    /// Not idempotent: a retry after a lost connection may store a batch twice (counted in
    /// ``KafkaProducerStatistics/possiblyDuplicatedRecords``).
    case disabled

    /// `automatic`, `true` or `false`.
    public var description: String {
        switch self {
        case .automatic: "automatic"
        case .enabled: "true"
        case .disabled: "false"
        }
    }
}

/// Producer settings. `init()` gives a working setup; names follow the Java client's.
public struct KafkaProducerConfiguration: Sendable {
    /// Default acks: all (the Java client's default since 3.0).
    public static let defaultAcks = KafkaAcks.all
    /// Default linger: 5 ms (`linger.ms`, the Java client's default since 4.0 and librdkafka's).
    public static let defaultLinger: Duration = .milliseconds(5)
    /// Default batch size: 1,000,000 bytes per partition batch (librdkafka's `batch.size`).
    public static let defaultBatchSize = 1_000_000
    /// Default in-flight requests per broker: 5 (`max.in.flight.requests.per.connection`).
    public static let defaultMaxInFlightRequestsPerConnection = 5
    /// Default delivery timeout: 120 s (`delivery.timeout.ms`).
    public static let defaultDeliveryTimeout: Duration = .seconds(120)
    /// Default buffer: 32 MiB of records waiting to be sent (`buffer.memory`).
    public static let defaultBufferMemory = 32 * 1024 * 1024
    /// Default time `send`/`produce` waits for buffer space or metadata: 60 s (`max.block.ms`).
    public static let defaultMaxBlock: Duration = .seconds(60)
    /// Default largest request: 1 MiB (`max.request.size`); a bigger record is refused.
    public static let defaultMaxRequestSize = 1024 * 1024 + 64 * 1024
    /// Default transaction timeout: 60 s (`transaction.timeout.ms`).
    public static let defaultTransactionTimeout: Duration = .seconds(60)

    /// Like Kafka's `acks`. Default `.all`.
    public var acks: KafkaAcks = KafkaProducerConfiguration.defaultAcks
    /// How long a partition batch waits for more records before it is sent, like `linger.ms`.
    /// Default 5 ms.
    public var linger: Duration = KafkaProducerConfiguration.defaultLinger
    /// The size at which a partition batch is sent without waiting for `linger`, like
    /// `batch.size`. Default 1,000,000 bytes.
    public var batchSize: Int = KafkaProducerConfiguration.defaultBatchSize
    /// Requests in flight per broker, like `max.in.flight.requests.per.connection`. Default 5.
    /// Records of one partition (and so of one key) stay in order even across retries: an
    /// idempotent producer keeps up to five batches per partition in flight, each with its
    /// sequence number; otherwise each partition has at most one batch in flight.
    public var maxInFlightRequestsPerConnection: Int = KafkaProducerConfiguration.defaultMaxInFlightRequestsPerConnection
    /// Whether batches carry a producer id, epoch and sequence numbers, so that the broker
    /// stores a retried batch once (`enable.idempotence`). Default ``KafkaIdempotence/automatic``:
    /// on with the default `acks=all`.
    public var idempotence: KafkaIdempotence = .automatic
    /// Codec for record batches, like `compression.type`. Default `.none`. zstd batches are
    /// valid zstd frames every consumer reads, but stored in raw blocks: they are not smaller.
    public var compression: KafkaCompressionCodec = .none
    /// How long the broker may take to replicate before answering (`request.timeout.ms`, sent
    /// in the request). Default: the client's request timeout.
    public var requestTimeout: Duration?
    /// Upper bound from `send` to success or failure, retries included, like
    /// `delivery.timeout.ms`. Default 120 s.
    public var deliveryTimeout: Duration = KafkaProducerConfiguration.defaultDeliveryTimeout
    /// Bytes of records the producer buffers before `send` waits, like `buffer.memory`.
    /// Default 32 MiB.
    public var bufferMemory: Int = KafkaProducerConfiguration.defaultBufferMemory
    /// How long `send`/`produce` wait for buffer space or topic metadata before failing with
    /// `bufferFull` or the metadata error, like `max.block.ms`. Default 60 s.
    /// A transactional producer also retries each transaction request (FindCoordinator,
    /// InitProducerId, AddPartitionsToTxn, EndTxn, ...) for at most this long.
    public var maxBlock: Duration = KafkaProducerConfiguration.defaultMaxBlock
    /// Largest request, and so largest record, like `max.request.size`. Default 1 MiB + 64 KiB.
    public var maxRequestSize: Int = KafkaProducerConfiguration.defaultMaxRequestSize
    /// The transactional id, like `transactional.id`. Default nil: no transactions. With an id
    /// the producer sends records only inside transactions (``KafkaProducer/initTransactions()``,
    /// then ``KafkaProducer/beginTransaction()`` ... ``KafkaProducer/commitTransaction()``), and
    /// a new producer with the same id fences this one. Needs idempotence.
    public var transactionalID: String?
    /// How long the transaction coordinator lets a transaction stay open before aborting it,
    /// like `transaction.timeout.ms`. Default 60 s; must not exceed the broker's
    /// `transaction.max.timeout.ms`.
    public var transactionTimeout: Duration = KafkaProducerConfiguration.defaultTransactionTimeout

    /// A configuration with every default.
    public init() {}

    /// Whether the producer is idempotent with these settings.
    public var usesIdempotence: Bool {
        switch idempotence {
        case .enabled: true
        case .disabled: false
        case .automatic: acks == .all && maxInFlightRequestsPerConnection <= 5
        }
    }

    /// Checks the settings, as creating a producer does.
    ///
    /// - Throws: ``KafkaError`` `invalidConfiguration` naming the bad field.
    public func validate() throws(KafkaError) {
        if let transactionalID {
            guard !transactionalID.isEmpty else {
                throw KafkaError(.invalidConfiguration, "transactionalID must not be empty; set a name unique to this producer's role, or nil for no transactions")
            }
            guard idempotence != .disabled, usesIdempotence else {
                throw KafkaError(.invalidConfiguration, "transactionalID needs an idempotent producer, but idempotence is \(idempotence) with acks \(acks) and maxInFlightRequestsPerConnection \(maxInFlightRequestsPerConnection); set idempotence = .automatic or .enabled with acks = .all and at most 5 requests in flight, or transactionalID = nil")
            }
            guard transactionTimeout >= .milliseconds(1), transactionTimeout <= .milliseconds(Int64(Int32.max)) else {
                throw KafkaError(.invalidConfiguration, "transactionTimeout must be between 1 ms and \(Int32.max) ms (it is \(transactionTimeout))")
            }
        }
        if idempotence == .enabled {
            guard acks == .all else {
                throw KafkaError(.invalidConfiguration, "acks must be .all for an idempotent producer (acks is \(acks)); set acks = .all, or idempotence = .disabled")
            }
            guard maxInFlightRequestsPerConnection <= 5 else {
                throw KafkaError(.invalidConfiguration, "maxInFlightRequestsPerConnection must be at most 5 for an idempotent producer (it is \(maxInFlightRequestsPerConnection)); lower it, or set idempotence = .disabled")
            }
        }
        guard linger >= .zero else { throw KafkaError(.invalidConfiguration, "linger must not be negative") }
        guard batchSize >= 1 else { throw KafkaError(.invalidConfiguration, "batchSize must be at least 1") }
        guard maxInFlightRequestsPerConnection >= 1 else { throw KafkaError(.invalidConfiguration, "maxInFlightRequestsPerConnection must be at least 1") }
        guard deliveryTimeout > .zero else { throw KafkaError(.invalidConfiguration, "deliveryTimeout must be positive") }
        guard bufferMemory >= 1024 else { throw KafkaError(.invalidConfiguration, "bufferMemory must be at least 1024 bytes") }
        guard maxRequestSize >= 1024 else { throw KafkaError(.invalidConfiguration, "maxRequestSize must be at least 1024 bytes") }
    }
}
