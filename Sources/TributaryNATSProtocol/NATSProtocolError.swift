import TributaryWire

/// A malformed or oversized frame from a NATS server. The connection that produced it must be closed.
///
/// Says what was expected, what arrived, where in the stream, and shows a short hex excerpt.
public struct NATSProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of protocol violation.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        private init(_ name: String) { self.name = name }
        /// A control line longer than the configured limit.
        public static let controlLineTooLong = Code("controlLineTooLong")
        /// A control line not terminated by CRLF, or a payload not followed by CRLF.
        public static let missingCRLF = Code("missingCRLF")
        /// An operation name the client does not know.
        public static let unknownOperation = Code("unknownOperation")
        /// Wrong number of arguments, or a non-numeric size or sid.
        public static let badArguments = Code("badArguments")
        /// A payload larger than the negotiated maximum.
        public static let payloadTooLarge = Code("payloadTooLarge")
        /// A header block that does not follow NATS/1.0 header syntax.
        public static let badHeaders = Code("badHeaders")
        /// An INFO whose JSON could not be decoded.
        public static let badInfo = Code("badInfo")
        /// A frame that is valid on its own but not allowed at this point of the conversation.
        public static let unexpectedFrame = Code("unexpectedFrame")
        public var description: String { name }
    }

    /// The kind of protocol violation.
    public var code: Code
    /// What was expected and what arrived.
    public var message: String
    /// Byte offset of the offending frame in the connection's inbound stream.
    public var offset: Int
    /// A short hex excerpt of the offending bytes.
    public var excerpt: String

    public init(code: Code, message: String, offset: Int, excerpt: String = "") {
        self.code = code
        self.message = message
        self.offset = offset
        self.excerpt = excerpt
    }

    public var description: String {
        var text = "NATS protocol error (\(code)) at inbound byte \(offset): \(message)"
        if !excerpt.isEmpty { text += " [bytes: \(excerpt)]" }
        return text + "; the connection was closed — check that the server is a NATS server and that no proxy rewrites the stream"
    }
}
