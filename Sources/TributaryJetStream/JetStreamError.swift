import TributaryNATS

/// The error type of the JetStream client: a code callers can switch on, a message that says
/// what went wrong and what to do, and context (API subject, stream, consumer).
///
/// Errors the server reports through the JSON API keep its `code` (HTTP-like status) and
/// `err_code` (see ``JetStreamAPIErrorCode``). Descriptions never contain payloads.
public struct JetStreamError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure. Extensible: new codes are added as static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let name: String
        private init(_ name: String) { self.name = name }
        /// The JetStream API answered with an error; see `apiErrorCode` and `status`.
        public static let apiError = Code("apiError")
        /// The stream does not exist (`err_code` 10059).
        public static let streamNotFound = Code("streamNotFound")
        /// The consumer does not exist (`err_code` 10014).
        public static let consumerNotFound = Code("consumerNotFound")
        /// No message has the requested sequence or subject (`err_code` 10037, or status 404 on a direct get).
        public static let messageNotFound = Code("messageNotFound")
        /// A publish expectation (`Nats-Expected-Stream`, `-Last-Sequence`, `-Last-Subject-Sequence`,
        /// `-Last-Msg-Id`) did not hold; nothing was stored. Compare-and-set code matches on this.
        public static let expectationFailed = Code("expectationFailed")
        /// No JetStream answered: not enabled, not yet ready after a restart (status 503 no
        /// responders after the bounded retries), or a wrong domain or API prefix.
        public static let noResponders = Code("noResponders")
        /// The server did not answer in time.
        public static let timeout = Code("timeout")
        /// A response could not be decoded; `message` names the API subject and what was wrong.
        public static let invalidResponse = Code("invalidResponse")
        /// A name, subject or option given by the caller is invalid; nothing was sent.
        public static let invalidArgument = Code("invalidArgument")
        /// The consumer was deleted while messages were being pulled (status 409 Consumer Deleted).
        public static let consumerDeleted = Code("consumerDeleted")
        /// A pull request stopped answering: two idle heartbeats were missed.
        public static let heartbeatsMissed = Code("heartbeatsMissed")
        /// The server refused a pull request (status 409 or 400 other than the handled ones).
        public static let pullRequestRefused = Code("pullRequestRefused")
        /// The async publish window stayed full for longer than the wait allows.
        public static let publishWindowFull = Code("publishWindowFull")
        /// The message cannot be acknowledged (no reply subject, or not a JetStream message).
        public static let notAcknowledgeable = Code("notAcknowledgeable")
        /// The NATS connection failed the operation; see `underlying`.
        public static let connection = Code("connection")
        /// The calling task was cancelled.
        public static let cancelled = Code("cancelled")
        /// No object store bucket of that name (its `OBJ_<bucket>` stream is missing).
        public static let bucketNotFound = Code("bucketNotFound")
        /// No object of that name in the bucket, or it was deleted.
        public static let objectNotFound = Code("objectNotFound")
        /// An object or link of that name exists where the call needs the name free.
        public static let objectExists = Code("objectExists")
        /// An object name or bucket name the object store does not accept.
        public static let invalidObjectName = Code("invalidObjectName")
        /// The object's data does not match its SHA-256 digest: it was corrupted in the stream.
        public static let digestMismatch = Code("digestMismatch")
        /// The object's data has another size or chunk count than its info says.
        public static let objectSizeMismatch = Code("objectSizeMismatch")
        /// The object's stored info does not decode or breaks the object store's rules.
        public static let badObjectInfo = Code("badObjectInfo")
        /// The operation does not apply to a link (or a link to a bucket).
        public static let objectIsLink = Code("objectIsLink")
        /// Reading the data to put (a file or a sequence) failed.
        public static let objectSourceFailed = Code("objectSourceFailed")
        /// The code's name.
        public var description: String { name }
    }

    /// What kind of failure.
    public var code: Code
    /// What went wrong and what to do.
    public var message: String
    /// The API subject of the request, if any.
    public var apiSubject: String?
    /// The stream involved, if any.
    public var stream: String?
    /// The consumer involved, if any.
    public var consumer: String?
    /// The server's HTTP-like status (`code` of an API error, or a status header), if any.
    public var status: Int?
    /// The server's JetStream `err_code`, if any.
    public var apiErrorCode: JetStreamAPIErrorCode?
    /// The server's description, if any.
    public var serverDescription: String?
    /// The error this one wraps.
    public var underlying: (any Error)?

    /// Creates an error.
    public init(_ code: Code, _ message: String, apiSubject: String? = nil, stream: String? = nil, consumer: String? = nil,
                status: Int? = nil, apiErrorCode: JetStreamAPIErrorCode? = nil, serverDescription: String? = nil,
                underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.apiSubject = apiSubject
        self.stream = stream
        self.consumer = consumer
        self.status = status
        self.apiErrorCode = apiErrorCode
        self.serverDescription = serverDescription
        self.underlying = underlying
    }

    /// True when trying again (maybe later) can succeed.
    public var isRetriable: Bool {
        if let apiErrorCode, let entry = JetStreamAPIErrorCode.known[apiErrorCode.rawValue] { return entry.isRetriable }
        if let nats = underlying as? NATSError { return nats.isRetriable }
        return [.noResponders, .timeout].contains(code)
    }

    /// True when the NATS connection this came from is gone.
    public var isConnectionFatal: Bool {
        (underlying as? NATSError)?.isConnectionFatal ?? false
    }

    /// The message, then the context.
    public var description: String {
        var parts = [message]
        if let apiSubject { parts.append("API subject \(apiSubject)") }
        if let status { parts.append("status \(status)") }
        if let apiErrorCode { parts.append("err_code \(apiErrorCode.rawValue)") }
        if let underlying { parts.append("cause: \(underlying)") }
        return parts.joined(separator: "; ")
    }

    /// Maps a JSON API error to an error with the most specific code.
    static func fromAPI(_ error: APIError, apiSubject: String, stream: String?, consumer: String?) -> JetStreamError {
        let errCode = error.errCode.map(JetStreamAPIErrorCode.init(rawValue:))
        let entry = error.errCode.flatMap { JetStreamAPIErrorCode.known[$0] }
        let code: Code
        switch errCode {
        case .streamNotFound?: code = .streamNotFound
        case .consumerNotFound?: code = .consumerNotFound
        case .noMessageFound?: code = .messageNotFound
        default: code = entry?.isExpectationFailure == true ? .expectationFailed : .apiError
        }
        let description = error.description ?? "no description"
        var what = "JetStream refused the request: \(description)"
        if let stream { what += " (stream '\(stream)'" + (consumer.map { ", consumer '\($0)')" } ?? ")") }
        let hint = entry?.hint ?? (error.code == 503 ? "JetStream is unavailable; retry later." : "Check the request against the server's description.")
        return JetStreamError(code, "\(what); \(hint)", apiSubject: apiSubject, stream: stream, consumer: consumer,
                              status: error.code, apiErrorCode: errCode, serverDescription: error.description)
    }

    /// Wraps a NATS error of an API request.
    static func fromNATS(_ error: NATSError, apiSubject: String?, stream: String? = nil, consumer: String? = nil,
                         domainHint: Bool = true) -> JetStreamError {
        switch error.code {
        case .noResponders:
            let hint = domainHint ? "; check that JetStream is enabled (nats-server -js) and the domain or API prefix is right" : ""
            return JetStreamError(.noResponders, "nothing answered \(apiSubject ?? "the request")\(hint)",
                                  apiSubject: apiSubject, stream: stream, consumer: consumer, status: 503, underlying: error)
        case .timeout:
            return JetStreamError(.timeout, "JetStream did not answer \(apiSubject ?? "the request") in time; retry, or raise the timeout",
                                  apiSubject: apiSubject, stream: stream, consumer: consumer, underlying: error)
        case .cancelled:
            return JetStreamError(.cancelled, "the request was cancelled", apiSubject: apiSubject, stream: stream, consumer: consumer, underlying: error)
        default:
            return JetStreamError(.connection, "the NATS connection failed \(apiSubject ?? "the request"): \(error.message)",
                                  apiSubject: apiSubject, stream: stream, consumer: consumer, underlying: error)
        }
    }
}

extension JetStreamError: ClassifiedFailure {
    /// `.cancellation` for `.cancelled`, `.transient` when `isRetriable`, else `.permanent`.
    public var failureClass: FailureClass {
        if code == .cancelled { return .cancellation }
        return isRetriable ? .transient : .permanent
    }
}
