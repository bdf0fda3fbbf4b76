/// A message delivered by the server (MSG or HMSG).
public struct NATSMessage: Sendable, Hashable {
    /// The subject it was published to.
    public var subject: String
    /// The reply subject the publisher asked for, if any.
    public var replyTo: String?
    /// Headers, for HMSG; nil for MSG.
    public var headers: NATSHeaders?
    /// The payload bytes.
    public var payload: [UInt8]
    /// The subscription id it was delivered for.
    public var sid: UInt64

    public init(subject: String, replyTo: String? = nil, headers: NATSHeaders? = nil, payload: [UInt8], sid: UInt64 = 0) {
        self.subject = subject
        self.replyTo = replyTo
        self.headers = headers
        self.payload = payload
        self.sid = sid
    }

    /// An empty message (no heap storage) used to fill slots a message was moved out of.
    public static let placeholder = NATSMessage(subject: "", payload: [])

    /// The status code carried in the headers (for example 503 "no responders"), if any.
    public var status: Int? { headers?.status }

    /// The payload decoded as UTF-8 (invalid sequences are repaired).
    public var string: String { String(decoding: payload, as: UTF8.self) }

    /// Bytes this message holds, as counted for pending limits: payload, subject, reply subject
    /// and the header block as it was on the wire.
    public var byteCount: Int {
        var count = payload.count + subject.utf8.count + (replyTo?.utf8.count ?? 0)
        if let headers { count += headers.wireSize }
        return count
    }
}

/// One frame from the server.
public enum NATSServerOp: Sendable, Hashable {
    /// INFO with the server's details (boxed: a rare frame, it would otherwise make every
    /// frame, messages included, as large as the server's details).
    indirect case info(NATSServerInfo)
    /// MSG or HMSG.
    case msg(NATSMessage)
    /// PING: the client must answer PONG.
    case ping
    /// PONG: answer to the oldest outstanding PING.
    case pong
    /// +OK (verbose mode only).
    case ok
    /// -ERR with the server's text (quotes stripped).
    case err(String)
}
