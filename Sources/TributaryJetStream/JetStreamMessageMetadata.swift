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
        // One pass over the bytes: token boundaries, then the numbers parsed in place.
        var subject = replySubject
        guard let parsed = subject.withUTF8({ Self.parse($0) }) else { return nil }
        self = parsed
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> JetStreamMessageMetadata? {
        // Ends of the first 12 tokens (the 12-token form's fields; later tokens are not read).
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 12) { ends -> JetStreamMessageMetadata? in
            var count = 0
            for index in 0..<bytes.count where bytes[index] == UInt8(ascii: ".") {
                if count < 12 { ends.initializeElement(at: count, to: index) }
                count += 1
            }
            if count < 12 { ends.initializeElement(at: count, to: bytes.count) }
            count += 1
            guard count == 9 || count >= 11 else { return nil }
            func token(_ index: Int) -> UnsafeBufferPointer<UInt8> {
                let start = index == 0 ? 0 : ends[index - 1] + 1
                return UnsafeBufferPointer(rebasing: bytes[start..<ends[index]])
            }
            func text(_ index: Int) -> String { String(decoding: token(index), as: UTF8.self) }
            guard token(0).elementsEqual("$JS".utf8), token(1).elementsEqual("ACK".utf8) else { return nil }
            let offset = count == 9 ? 2 : 4
            guard !token(offset).isEmpty, !token(offset + 1).isEmpty,
                  let delivered = unsigned(token(offset + 2)), let streamSequence = unsigned(token(offset + 3)),
                  let consumerSequence = unsigned(token(offset + 4)), let timestamp = signed(token(offset + 5)),
                  let pending = unsigned(token(offset + 6)) else { return nil }
            var domain: String?
            var accountHash: String?
            if offset == 4 {
                let domainToken = token(2)
                domain = domainToken.isEmpty || domainToken.elementsEqual("_".utf8) ? nil : text(2)
                accountHash = text(3)
            }
            return JetStreamMessageMetadata(domain: domain, accountHash: accountHash, stream: text(offset), consumer: text(offset + 1),
                                            deliveredCount: delivered, streamSequence: streamSequence, consumerSequence: consumerSequence,
                                            timestampNanoseconds: timestamp, pending: pending)
        }
    }

    /// A decimal with an optional `+`, as `UInt64(_:)` reads it; nil when empty, not a number or too large.
    private static func unsigned(_ digits: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var start = 0
        if digits.first == UInt8(ascii: "+") { start = 1 }
        guard start < digits.count else { return nil }
        var value: UInt64 = 0
        for index in start..<digits.count {
            let digit = digits[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times10, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflowA, !overflowB else { return nil }
            value = sum
        }
        return value
    }

    /// A decimal with an optional sign, as `Int64(_:)` reads it.
    private static func signed(_ digits: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard let first = digits.first else { return nil }
        if first == UInt8(ascii: "-") {
            guard let magnitude = unsigned(UnsafeBufferPointer(rebasing: digits[1...])), digits.count > 1,
                  digits[1] != UInt8(ascii: "+"), magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard let magnitude = unsigned(digits), magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }
}
