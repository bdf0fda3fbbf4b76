/// How many messages and bytes the open pull requests of a continuous consumer may still
/// deliver, and when to ask for more. Pure: no clock, no I/O.
///
/// A new request asks for what brings the outstanding total back to `batch` (and `maxBytes`),
/// once the outstanding total falls to the threshold (like nats.go's `ThresholdMessages`, half
/// the batch by default).
struct PullRequestAccounting: Equatable, Sendable {
    /// Messages a full set of requests asks for.
    let batch: Int
    /// Bytes a full set of requests asks for (nil: not bounded by bytes).
    let maxBytes: Int?
    /// Pull again when outstanding messages fall to this.
    let thresholdMessages: Int
    /// Pull again when outstanding bytes fall to this (with `maxBytes`).
    let thresholdBytes: Int

    /// Messages the open requests may still deliver.
    private(set) var pendingMessages = 0
    /// Bytes the open requests may still deliver.
    private(set) var pendingBytes = 0

    init(batch: Int, maxBytes: Int?, thresholdMessages: Int? = nil, thresholdBytes: Int? = nil) {
        self.batch = batch
        self.maxBytes = maxBytes
        self.thresholdMessages = thresholdMessages ?? batch / 2
        self.thresholdBytes = thresholdBytes ?? (maxBytes ?? 0) / 2
    }

    /// Whether a new pull request should be sent now.
    var needsPull: Bool {
        if pendingMessages <= thresholdMessages { return true }
        if let maxBytes, maxBytes > 0, pendingBytes <= thresholdBytes { return true }
        return false
    }

    /// The size of the next request: (messages, bytes), or nil when nothing is needed. Records it
    /// as outstanding.
    mutating func takeNextRequest() -> (batch: Int, maxBytes: Int?)? {
        guard needsPull else { return nil }
        let messages = batch - pendingMessages
        guard messages > 0 else { return nil }
        var bytes: Int?
        if let maxBytes {
            let room = maxBytes - pendingBytes
            guard room > 0 else { return nil }
            bytes = room
            pendingBytes += room
        }
        pendingMessages += messages
        return (messages, bytes)
    }

    /// A message of `size` bytes was delivered.
    mutating func messageDelivered(size: Int) {
        pendingMessages = max(0, pendingMessages - 1)
        if maxBytes != nil { pendingBytes = max(0, pendingBytes - size) }
    }

    /// A request ended with these undelivered counts (from the status headers).
    mutating func requestEnded(pendingMessages undeliveredMessages: Int?, pendingBytes undeliveredBytes: Int?) {
        if let undeliveredMessages { pendingMessages = max(0, pendingMessages - undeliveredMessages) }
        if let undeliveredBytes, maxBytes != nil { pendingBytes = max(0, pendingBytes - undeliveredBytes) }
        // Without counts nothing is known about what the request still owed: start afresh.
        if undeliveredMessages == nil, undeliveredBytes == nil { reset() }
    }

    /// Every open request is gone (leadership change, missed heartbeats, reconnect).
    mutating func reset() {
        pendingMessages = 0
        pendingBytes = 0
    }
}
