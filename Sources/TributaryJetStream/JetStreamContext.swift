import TributaryWire
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TributaryNATS

/// JetStream over a connected ``NATSClient``: streams, acknowledged publishing, consumers.
///
/// Create one per client and share it; all methods are safe to call from any task. The context
/// does not own the client: close the client when done (after `waitForPendingPublishes`).
public final class JetStreamContext: Sendable {
    /// The NATS connection requests go through.
    public let client: NATSClient
    /// The settings in effect.
    public let options: JetStreamOptions
    /// The API prefix in use, like `$JS.API` (no trailing dot).
    public let apiPrefix: String

    /// Whether each known stream allows direct get; filled by create, update and info.
    let directGetAllowed = Locked<[String: Bool]>([:])
    let asyncPublisher: AsyncPublisher

    /// Creates a context over `client`.
    ///
    /// - Throws: `.invalidArgument` when an option is invalid (naming it).
    public init(client: NATSClient, options: JetStreamOptions = JetStreamOptions()) throws(JetStreamError) {
        try options.validate()
        self.client = client
        self.options = options
        self.apiPrefix = options.resolvedAPIPrefix
        self.asyncPublisher = AsyncPublisher(client: client, window: options.maxPendingAsyncPublishes,
                                             ackTimeout: options.requestTimeout, windowWait: options.asyncPublishWaitTimeout)
    }

    /// The full subject of an API call: prefix, dot, `relative`.
    func apiSubject(_ relative: String) -> String { apiPrefix + "." + relative }

    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }

    /// Encodes a request body; an encoding failure (our own types) is an invalid argument.
    func encode<Body: Encodable>(_ body: Body, apiSubject: String) throws(JetStreamError) -> [UInt8] {
        do {
            return Array(try Self.makeEncoder().encode(body))
        } catch {
            throw JetStreamError(.invalidArgument, "cannot encode the request for \(apiSubject): \(error)", apiSubject: apiSubject, underlying: error)
        }
    }

    /// Sends an API request and decodes its response, turning an API error into a typed error.
    func request<Response: Decodable>(_ relative: String, body: [UInt8] = [], as type: Response.Type,
                                      stream: String? = nil, consumer: String? = nil) async throws(JetStreamError) -> Response {
        let subject = apiSubject(relative)
        let reply: NATSMessage
        do {
            reply = try await client.request(body, to: subject, timeout: options.requestTimeout)
        } catch {
            throw JetStreamError.fromNATS(error, apiSubject: subject, stream: stream, consumer: consumer)
        }
        return try Self.decodeResponse(reply.payload, as: type, apiSubject: subject, stream: stream, consumer: consumer)
    }

    /// Sends an API request with an encodable body.
    func request<Body: Encodable, Response: Decodable>(_ relative: String, body: Body, as type: Response.Type,
                                                       stream: String? = nil, consumer: String? = nil) async throws(JetStreamError) -> Response {
        let bytes = try encode(body, apiSubject: apiSubject(relative))
        return try await request(relative, body: bytes, as: type, stream: stream, consumer: consumer)
    }

    /// Decodes an API response: an `error` member becomes a typed error; a body that does not
    /// decode becomes `.invalidResponse` naming the subject and the failing path (never the payload).
    static func decodeResponse<Response: Decodable>(_ payload: [UInt8], as type: Response.Type, apiSubject: String,
                                                    stream: String?, consumer: String?) throws(JetStreamError) -> Response {
        let data = Data(payload)
        let decoder = JSONDecoder()
        if payload.isEmpty {
            throw JetStreamError(.invalidResponse, "empty response to \(apiSubject); expected \(Response.self) JSON. Check that the subject is a JetStream API subject",
                                 apiSubject: apiSubject, stream: stream, consumer: consumer)
        }
        do {
            let envelope = try decoder.decode(APIErrorResponse.self, from: data)
            if let error = envelope.error {
                throw JetStreamError.fromAPI(error, apiSubject: apiSubject, stream: stream, consumer: consumer)
            }
            return try decoder.decode(Response.self, from: data)
        } catch let error as JetStreamError {
            throw error
        } catch {
            throw JetStreamError(.invalidResponse, "cannot decode the response to \(apiSubject) as \(Response.self): \(Self.describe(error)); the server may be newer or older than this client supports",
                                 apiSubject: apiSubject, stream: stream, consumer: consumer, underlying: error)
        }
    }

    /// A short description of a decoding error: the failing key path and what was wrong.
    static func describe(_ error: any Error) -> String {
        guard let decoding = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the top level" : "'" + keys.joined(separator: ".") + "'"
        }
        switch decoding {
        case .keyNotFound(let key, let context): return "missing key '\(key.stringValue)' at \(path(context))"
        case .typeMismatch(let type, let context): return "\(path(context)) is not a \(type)"
        case .valueNotFound(let type, let context): return "\(path(context)) is null, expected \(type)"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(decoding)"
        }
    }

    /// Checks a stream or consumer name: not empty, no whitespace, `.`, `*`, `>`, `/` or `\`.
    static func validateName(_ name: String, what: String) throws(JetStreamError) {
        if name.isEmpty {
            throw JetStreamError(.invalidArgument, "\(what) name is empty; give a name")
        }
        // The common case, checked on every call of the hot paths (KV get, direct get): printable
        // ASCII without the forbidden characters. Anything else takes the Character scan below.
        if name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: "*") && $0 != UInt8(ascii: ">")
                && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "\\") }) {
            return
        }
        if let bad = name.first(where: { $0 == "." || $0 == "*" || $0 == ">" || $0 == "/" || $0 == "\\" || $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } == true }) {
            throw JetStreamError(.invalidArgument, "\(what) name '\(name)' contains '\(bad.isWhitespace ? "whitespace" : String(bad))'; names may not contain whitespace, '.', '*', '>', '/' or '\\'")
        }
    }

    // MARK: Account

    /// Account usage and limits; a quick check that JetStream answers.
    ///
    /// - Throws: `.noResponders` when JetStream is not enabled or the domain/prefix is wrong.
    public func accountInfo() async throws(JetStreamError) -> AccountInfoResponse {
        try await request(JetStreamAPISubject.accountInfo(), as: AccountInfoResponse.self)
    }
}
