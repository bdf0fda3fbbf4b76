/// What the reply subject of a consumer's message says about it (ADR-15).
///
/// Two forms exist: `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>`
/// (9 tokens, older servers) and `$JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.
/// <stream seq>.<consumer seq>.<time>.<pending>.<random>` (12 tokens; later servers may append
/// more). A domain of `_` means none.
public struct JetStreamMessageMetadata: Sendable, Hashable {
    /// The JetStream domain, when the subject names one.
    public var domain: String?
    /// The account hash, in the 11+-token form.
    public var accountHash: String?
    /// The stream the message is stored in.
    public var stream: String
    /// The consumer that delivered it.
    public var consumer: String
    /// How many times it has been delivered, this time included (1 on first delivery).
    public var deliveredCount: UInt64
    /// Its stream sequence.
    public var streamSequence: UInt64
    /// Its consumer sequence (counts deliveries, redeliveries included).
    public var consumerSequence: UInt64
    /// When it was stored: nanoseconds since 1970-01-01 UTC.
    public var timestampNanoseconds: Int64
    /// Messages left for the consumer after this one.
    public var pending: UInt64

    /// Creates metadata.
    public init(domain: String? = nil, accountHash: String? = nil, stream: String, consumer: String, deliveredCount: UInt64,
                streamSequence: UInt64, consumerSequence: UInt64, timestampNanoseconds: Int64, pending: UInt64) {
        self.domain = domain
        self.accountHash = accountHash
        self.stream = stream
        self.consumer = consumer
        self.deliveredCount = deliveredCount
        self.streamSequence = streamSequence
        self.consumerSequence = consumerSequence
        self.timestampNanoseconds = timestampNanoseconds
        self.pending = pending
    }

    /// Parses an ack reply subject; nil when it is not one (a core NATS message, a wrong token count
    /// or a number that does not parse).
    public init?(replySubject: String) {
        let tokens = replySubject.split(separator: ".", omittingEmptySubsequences: false)
        guard tokens.count >= 9, tokens[0] == "$JS", tokens[1] == "ACK" else { return nil }
        let offset: Int
        if tokens.count == 9 {
            offset = 2
            domain = nil
            accountHash = nil
        } else if tokens.count >= 11 {
            offset = 4
            domain = tokens[2] == "_" || tokens[2].isEmpty ? nil : String(tokens[2])
            accountHash = String(tokens[3])
        } else {
            return nil
        }
        guard !tokens[offset].isEmpty, !tokens[offset + 1].isEmpty,
              let delivered = UInt64(tokens[offset + 2]), let streamSequence = UInt64(tokens[offset + 3]),
              let consumerSequence = UInt64(tokens[offset + 4]), let timestamp = Int64(tokens[offset + 5]),
              let pending = UInt64(tokens[offset + 6]) else { return nil }
        stream = String(tokens[offset])
        consumer = String(tokens[offset + 1])
        deliveredCount = delivered
        self.streamSequence = streamSequence
        self.consumerSequence = consumerSequence
        timestampNanoseconds = timestamp
        self.pending = pending
    }
}
