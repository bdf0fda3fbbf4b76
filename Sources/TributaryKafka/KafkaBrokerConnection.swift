#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization
import TributaryKafkaProtocol
import TributaryTransport
import TributaryWire

/// One connection to one broker: an I/O thread that opens the byte stream
/// (``KafkaClientConfiguration/streamFactory``), writes queued request frames and reads response
/// frames, matching them to waiting callers by correlation id. Several requests may be in
/// flight; Kafka answers them in order on one connection.
///
/// The API versions are negotiated once at connect (ApiVersions), and every request is sent at
/// the highest version both sides support. With SASL configured the connection then
/// authenticates (SaslHandshake, SaslAuthenticate) before anything else is sent, and again before
/// the session lifetime the broker gave ends (KIP-368): new requests are held back, the requests
/// in flight are answered, the exchange runs on the same connection, and the held requests go
/// out after it.
///
/// Concurrency: one lock (`Locked`) guards the outbound bytes, the in-flight table, the re-authentication
/// phase and the closed state. Callers encode outside the lock, append under it and wake the I/O
/// thread; completions run on the I/O thread after the lock is released and only resume
/// continuations. Every operation on the stream happens on the I/O thread.
final class KafkaBrokerConnection: Sendable {
    typealias Completion = @Sendable (Result<[UInt8], KafkaError>) -> Void

    private struct Pending {
        let api: KafkaAPIKey
        let deadline: ContinuousClock.Instant
        let complete: Completion
    }

    /// A request queued while the connection re-authenticates: sent once the exchange is done.
    private struct Held {
        var frame: [UInt8]
        var id: Int32
        var pending: Pending?
    }

    /// Where the connection stands with SASL re-authentication (KIP-368).
    private enum ReauthPhase {
        /// No session limit (no SASL, or a lifetime of 0).
        case none
        /// Re-authenticate at this time.
        case scheduled(ContinuousClock.Instant)
        /// New requests are held; waiting for the requests in flight to be answered.
        case draining
        /// The SASL exchange is running; only its frames are sent.
        case exchanging
    }

    private struct State {
        var outbound: [UInt8] = []
        var held: [Held] = []
        var reauth = ReauthPhase.none
        var pending: [Int32: Pending] = [:]
        var nextCorrelationID: Int32 = 1
        var closedError: KafkaError?
        var versions = KafkaApiVersionTable(brokerRanges: [:])
        /// Correlation ids of requests sent without waiting for a response (acks=0 produce).
        /// Kafka never answers them, but some brokers (tansu 0.6) do; such an answer is dropped.
        /// Bounded: the oldest ids are forgotten first.
        var unanswered: Set<Int32> = []
        var unansweredOrder: [Int32] = []

        /// Whether requests are held back for a re-authentication.
        var isHolding: Bool {
            switch reauth {
            case .draining, .exchanging: true
            case .none, .scheduled: false
            }
        }

        /// Gives `frame` the next correlation id and queues it for writing; `pending` waits for
        /// the response, nil marks a request the broker does not answer. While the connection
        /// re-authenticates, only `authenticating` frames go out; others are held until it is
        /// done. Returns the error the connection closed with, if it did (nothing is queued then).
        mutating func queue(_ frame: inout [UInt8], pending: Pending?, authenticating: Bool = false) -> KafkaError? {
            if let closedError { return closedError }
            let id = nextCorrelationID
            nextCorrelationID = id == Int32.max ? 1 : id + 1
            KafkaBrokerConnection.patchCorrelationID(id, in: &frame)
            if isHolding && !authenticating {
                held.append(Held(frame: frame, id: id, pending: pending))
                return nil
            }
            if let pending {
                self.pending[id] = pending
            } else {
                rememberUnanswered(id)
            }
            if outbound.isEmpty {
                // Adopt the frame instead of copying it (a produce request is up to a megabyte).
                outbound = frame
            } else {
                outbound.append(contentsOf: frame)
            }
            return nil
        }

        /// Ends a re-authentication: the held requests go out in the order they were queued.
        mutating func releaseHeld() {
            for item in held {
                if let pending = item.pending { self.pending[item.id] = pending } else { rememberUnanswered(item.id) }
                outbound.append(contentsOf: item.frame)
            }
            held.removeAll()
        }

        mutating func rememberUnanswered(_ id: Int32) {
            unanswered.insert(id)
            unansweredOrder.append(id)
            if unansweredOrder.count > 4096 {
                let dropped = unansweredOrder.prefix(1024)
                for old in dropped { unanswered.remove(old) }
                unansweredOrder.removeFirst(1024)
            }
        }
    }

    /// `host:port` of the broker.
    let endpoint: String
    /// The broker's node id, or nil for a bootstrap connection.
    let nodeID: Int32?
    private let configuration: KafkaClientConfiguration
    private let address: KafkaBrokerAddress
    private let wakeup: WakeupPipe
    private let state = Locked(State())

    private init(address: KafkaBrokerAddress, wakeup: WakeupPipe, nodeID: Int32?, configuration: KafkaClientConfiguration) {
        self.address = address
        self.wakeup = wakeup
        self.endpoint = address.description
        self.nodeID = nodeID
        self.configuration = configuration
    }

    // The pipe outlives the I/O thread: callers may still wake it after the stream closed.
    deinit { wakeup.close() }

    /// Starts the I/O thread, which opens the stream; then negotiates API versions and, when
    /// configured, authenticates with SASL.
    ///
    /// - Throws: ``KafkaError`` `connectionFailed` when no address connects, the error of the
    ///   ApiVersions exchange, `unsupportedSASLMechanism` or `authenticationFailed`.
    static func open(_ address: KafkaBrokerAddress, nodeID: Int32?, configuration: KafkaClientConfiguration) async throws(KafkaError) -> KafkaBrokerConnection {
        let pipe: WakeupPipe
        do throws(TransportError) {
            pipe = try WakeupPipe()
        } catch {
            throw KafkaError.from(error, connecting: true)
        }
        let connection = KafkaBrokerConnection(address: address, wakeup: pipe, nodeID: nodeID, configuration: configuration)
        // The blocking connect runs on the connection's own I/O thread, never on the concurrency
        // pool; the thread keeps the stream for its whole life.
        let connected: Result<Void, KafkaError> = await withCheckedContinuation { continuation in
            // Sized like a default pthread's stack: the thread decompresses fetched batches.
            let started = IOThread.start(stackSize: 8 << 20) { connection.ioMain { continuation.resume(returning: $0) } }
            if !started {
                continuation.resume(returning: .failure(KafkaError(.connectionFailed,
                    "cannot start the I/O thread for \(address) (the system refused a new thread)")))
            }
        }
        try connected.get()
        do throws(KafkaError) {
            try await connection.negotiateVersions()
            if configuration.securityProtocol.usesSASL, let sasl = configuration.sasl {
                try await connection.authenticate(sasl)
            }
        } catch {
            connection.close(error)
            throw error
        }
        return connection
    }

    /// Whether the connection is still usable.
    var isAlive: Bool { state.withLock { $0.closedError == nil } }

    /// The negotiated version table.
    var versions: KafkaApiVersionTable { state.withLock { $0.versions } }

    /// The version to send `api` at: the highest both sides support.
    ///
    /// - Throws: ``KafkaError`` `unsupportedVersion` naming the API and both ranges.
    func version(for api: KafkaAPIKey, clientRange: ClosedRange<Int16>? = nil) throws(KafkaError) -> Int16 {
        let table = versions
        do throws(KafkaApiVersionTable.Mismatch) {
            return try table.version(for: api, clientRange: clientRange ?? api.supportedVersions)
        } catch {
            throw KafkaError(.unsupportedVersion, error.description, broker: endpoint, api: api, underlying: error)
        }
    }

    /// Sends `request` at the negotiated version (or `version`) and returns the decoded response.
    ///
    /// - Throws: ``KafkaError``: `unsupportedVersion`, `timedOut` (the connection is closed then,
    ///   as responses come in order), `connectionLost`, `protocolError` for an undecodable
    ///   response, `closed`.
    func send<Request: KafkaRequestMessage>(_ request: Request, version: Int16? = nil, timeout: Duration? = nil) async throws(KafkaError) -> Request.Response {
        let version = if let version { version } else { try self.version(for: Request.apiKey) }
        let frame = try encode(request, version: version)
        let result: Result<Request.Response, KafkaError> = await withCheckedContinuation { continuation in
            enqueue(frame, api: Request.apiKey, timeout: timeout) { result in
                continuation.resume(returning: result.flatMap { self.decode(Request.Response.self, frame: $0, version: version) })
            }
        }
        return try result.get()
    }

    /// Sends `request` at `version`; `complete` runs on the I/O thread with the decoded response
    /// or the error. It must not block.
    func send<Request: KafkaRequestMessage>(_ request: Request, version: Int16, complete: @escaping @Sendable (Result<Request.Response, KafkaError>) -> Void) {
        let frame: [UInt8]
        do throws(KafkaError) {
            frame = try encode(request, version: version)
        } catch {
            complete(.failure(error))
            return
        }
        enqueue(consume frame, api: Request.apiKey, timeout: nil) { result in
            complete(result.flatMap { self.decode(Request.Response.self, frame: $0, version: version) })
        }
    }

    private func decode<Response: KafkaResponseMessage>(_ type: Response.Type, frame: [UInt8], version: Int16) -> Result<Response, KafkaError> {
        var reader = ByteReader(frame)
        do throws(WireDecodingError) {
            let (_, body) = try KafkaFraming.decodeResponse(Response.self, version: version, from: &reader)
            return .success(body)
        } catch {
            let failure = KafkaError(.protocolError, "the \(Response.apiKey.name) v\(version) response does not decode: \(error); the connection is closed", broker: endpoint, api: Response.apiKey, underlying: error)
            close(failure)
            return .failure(failure)
        }
    }

    /// Sends `request` without waiting for a response (Produce with acks=0, which the broker
    /// never answers). Returns once the frame is queued for writing.
    func sendWithoutResponse<Request: KafkaRequestMessage>(_ request: Request, version: Int16) throws(KafkaError) {
        var frame = try encode(request, version: version)
        if let refused = state.withLock({ $0.queue(&frame, pending: nil) }) { throw refused }
        configuration.tracer?.sent(frame, api: Request.apiKey, broker: endpoint)
        wakeup.wake()
    }

    /// Closes the connection; requests in flight fail with `error` (default: `closed`).
    func close(_ error: KafkaError? = nil) {
        let changed = state.withLock { (state) -> Bool in
            guard state.closedError == nil else { return false }
            state.closedError = error ?? KafkaError(.closed, "the connection to \(endpoint) was closed by the client", broker: endpoint)
            return true
        }
        if changed { wakeup.wake() }
    }

    // MARK: - Request path

    private func encode<Request: KafkaRequestMessage>(_ request: Request, version: Int16) throws(KafkaError) -> [UInt8] {
        var writer = ByteWriter(capacity: 128)
        do throws(WireEncodingError) {
            try KafkaFraming.appendRequest(request, version: version, correlationID: 0, clientID: configuration.clientID, to: &writer)
        } catch {
            throw KafkaError(.invalidArgument, "cannot encode \(Request.apiKey.name) v\(version): \(error)", broker: endpoint, api: Request.apiKey, underlying: error)
        }
        return writer.bytes
    }

    /// Size (4), API key (2), API version (2), then the correlation id.
    private static func patchCorrelationID(_ id: Int32, in frame: inout [UInt8]) {
        let value = UInt32(bitPattern: id)
        frame[8] = UInt8(truncatingIfNeeded: value >> 24)
        frame[9] = UInt8(truncatingIfNeeded: value >> 16)
        frame[10] = UInt8(truncatingIfNeeded: value >> 8)
        frame[11] = UInt8(truncatingIfNeeded: value)
    }

    /// Queues `frame` (taking it over: the correlation id is written into it without a copy when
    /// the caller gives up its reference) with `complete` for its response.
    private func enqueue(_ frame: consuming [UInt8], api: KafkaAPIKey, timeout: Duration?, authenticating: Bool = false, complete: @escaping Completion) {
        let deadline = ContinuousClock.now.advanced(by: timeout ?? configuration.requestTimeout)
        if let refused = state.withLock({ $0.queue(&frame, pending: Pending(api: api, deadline: deadline, complete: complete), authenticating: authenticating) }) {
            complete(.failure(refused))
        } else {
            configuration.tracer?.sent(frame, api: api, broker: endpoint)
            wakeup.wake()
        }
    }

    private func roundTrip(_ frame: [UInt8], api: KafkaAPIKey, timeout: Duration?, authenticating: Bool = false) async throws(KafkaError) -> [UInt8] {
        let result: Result<[UInt8], KafkaError> = await withCheckedContinuation { continuation in
            enqueue(frame, api: api, timeout: timeout, authenticating: authenticating) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    private func negotiateVersions() async throws(KafkaError) {
        var version = ApiVersionsRequest.supportedVersions.upperBound
        for _ in 0..<2 {
            var request = ApiVersionsRequest()
            if version >= 3 {
                request.clientSoftwareName = "tributary"
                request.clientSoftwareVersion = "1.0"
            }
            let frame = try await roundTrip(encode(request, version: version), api: .apiVersions, timeout: nil)
            var reader = ByteReader(frame)
            let response: ApiVersionsResponse
            do throws(WireDecodingError) {
                _ = try KafkaResponseHeader(from: &reader, headerVersion: 0)
                response = try ApiVersionsResponse.decodeFallingBack(from: &reader, version: version).response
            } catch {
                throw KafkaError(.protocolError, "the ApiVersions response does not decode: \(error); is \(endpoint) a Kafka broker?", broker: endpoint, api: .apiVersions, underlying: error)
            }
            let table = KafkaApiVersionTable(response)
            let code = KafkaErrorCode(rawValue: response.errorCode)
            if code == .unsupportedVersion, let brokerRange = table.brokerRanges[KafkaAPIKey.apiVersions.rawValue] {
                // KIP-511: the broker lists its own ApiVersions range; retry within it.
                guard brokerRange.overlaps(ApiVersionsRequest.supportedVersions) else { break }
                version = min(brokerRange.upperBound, ApiVersionsRequest.supportedVersions.upperBound)
                continue
            }
            guard !code.isError else {
                throw KafkaError.broker(code, api: .apiVersions, broker: endpoint)
            }
            state.withLock { $0.versions = table }
            return
        }
        throw KafkaError(.unsupportedVersion, "\(endpoint) supports no ApiVersions version this client speaks (\(ApiVersionsRequest.supportedVersions))", broker: endpoint, api: .apiVersions)
    }

    // MARK: - SASL (KIP-43, KIP-152, KIP-368)

    /// Sends one request of the SASL exchange (it passes requests held for a re-authentication)
    /// and decodes its response.
    private func authenticationRoundTrip<Request: KafkaRequestMessage>(_ request: Request, version: Int16) async throws(KafkaError) -> Request.Response {
        let frame = try encode(request, version: version)
        let bytes = try await roundTrip(frame, api: Request.apiKey, timeout: nil, authenticating: true)
        return try decode(Request.Response.self, frame: bytes, version: version).get()
    }

    /// Authenticates with `sasl`: SaslHandshake v1 names the mechanism, then SaslAuthenticate
    /// carries the mechanism's tokens. Schedules the next authentication before the session the
    /// broker granted ends. For OAUTHBEARER the token comes from the provider (or its cache)
    /// first, in this task.
    ///
    /// - Throws: ``KafkaError`` `unsupportedSASLMechanism` naming the broker's mechanisms,
    ///   `authenticationFailed` with the broker's message and what to check, the token source's
    ///   errors (`authenticationFailed`, `cancelled`, `invalidConfiguration`), or the error of
    ///   the round trip (`connectionLost`, `timedOut`, `protocolError`).
    private func authenticate(_ sasl: KafkaSASL) async throws(KafkaError) {
        let mechanism = sasl.mechanism.name
        var bearer: KafkaOAuthBearerToken?
        if sasl.mechanism == .oauthBearer {
            guard let source = sasl.tokenSource else {
                throw KafkaError(.invalidConfiguration, "sasl.mechanism is OAUTHBEARER but sasl has no token provider; set KafkaClientConfiguration.sasl = .oauthBearer(tokenProvider:)", broker: endpoint)
            }
            do throws(KafkaError) {
                bearer = try await source.token()
            } catch {
                var located = error
                if located.broker == nil { located.broker = endpoint }
                throw located
            }
        }
        let subject = sasl.subject(token: bearer)
        let handshakeVersion: Int16
        do throws(KafkaError) {
            handshakeVersion = try version(for: .saslHandshake)
        } catch {
            throw KafkaError(.unsupportedSASLMechanism, "\(endpoint) offers no SASL authentication this client speaks (its ApiVersions list no SaslHandshake version 1), so \(mechanism) cannot be used; check that this is the broker's SASL listener, or set securityProtocol = .plaintext for a listener without authentication",
                             broker: endpoint, api: .saslHandshake, underlying: error)
        }
        let handshake = try await authenticationRoundTrip(SaslHandshakeRequest(mechanism: mechanism), version: handshakeVersion)
        let handshakeCode = KafkaErrorCode(rawValue: handshake.errorCode)
        if handshakeCode == .unsupportedSASLMechanism {
            let offered = handshake.mechanisms.isEmpty ? "none" : handshake.mechanisms.joined(separator: ", ")
            throw KafkaError(.unsupportedSASLMechanism, "\(endpoint) does not enable SASL mechanism \(mechanism); it offers \(offered). Set KafkaClientConfiguration.sasl to one of those (like sasl.mechanism), or enable \(mechanism) on the broker",
                             brokerErrorCode: handshakeCode, broker: endpoint, api: .saslHandshake)
        }
        guard !handshakeCode.isError else {
            throw Self.authenticationError(.broker(handshakeCode, api: .saslHandshake, broker: endpoint), mechanism: mechanism, subject: subject)
        }

        let authenticateVersion = try version(for: .saslAuthenticate)
        var randomBytes = [UInt8](repeating: 0, count: 24)
        var generator = SystemRandomNumberGenerator()   // getrandom(2) / arc4random: a secure source
        for index in randomBytes.indices { randomBytes[index] = generator.next() }
        var exchange: KafkaSASLExchange
        var token: [UInt8]?
        do throws(SASLError) {
            exchange = try sasl.exchange(clientNonce: SCRAMClient.makeNonce(randomBytes: randomBytes), token: bearer)
            token = try exchange.start()
        } catch {
            throw KafkaError(.invalidConfiguration, "cannot authenticate with \(mechanism): \(error); check KafkaClientConfiguration.sasl", broker: endpoint, underlying: error)
        }
        var lifetimeMs: Int64 = 0
        while let outgoing = token {
            let response = try await authenticationRoundTrip(SaslAuthenticateRequest(authBytes: outgoing), version: authenticateVersion)
            let code = KafkaErrorCode(rawValue: response.errorCode)
            if code.isError {
                var text = "\(code.name) (\(code.rawValue))"
                if let message = response.errorMessage, !message.isEmpty { text += ": \(message)" }
                let advice: String
                if let bearer, let source = sasl.tokenSource {
                    // The broker judged this token: do not offer it again.
                    source.invalidate(bearer)
                    if case .tokenRejected(let status)? = exchange.rejection { text += "; the broker's OAUTHBEARER status: \(status ?? "none given")" }
                    advice = "Check the token the provider returns (issuer, audience, scope, expiry, signature) and the broker's OAUTHBEARER validation settings; the next authentication asks the provider for a new token"
                } else {
                    advice = "Check the user name, password and mechanism in KafkaClientConfiguration.sasl (sasl.username, sasl.password, sasl.mechanism) and that the user exists on the broker with credentials for \(mechanism); retrying will not help"
                }
                throw KafkaError(.authenticationFailed, "\(endpoint) refused SASL \(mechanism) authentication of \(subject): \(text). \(advice)",
                                 brokerErrorCode: code, broker: endpoint, api: .saslAuthenticate, underlying: exchange.rejection)
            }
            lifetimeMs = response.sessionLifetimeMs
            do throws(SASLError) {
                token = try exchange.responseReceived(response.authBytes)
            } catch {
                if let bearer { sasl.tokenSource?.invalidate(bearer) }
                throw KafkaError(.authenticationFailed, "SASL \(mechanism) authentication of \(subject) with \(endpoint) failed: \(error)", broker: endpoint, api: .saslAuthenticate, underlying: error)
            }
        }
        authenticated(sessionLifetimeMs: lifetimeMs)
    }

    private static func authenticationError(_ error: KafkaError, mechanism: String, subject: String) -> KafkaError {
        var wrapped = error
        wrapped.code = .authenticationFailed
        wrapped.message = "SASL \(mechanism) handshake for \(subject) failed: \(error.message)"
        return wrapped
    }

    /// Records a successful authentication: schedules the next one (see
    /// ``reauthenticationDelay(sessionLifetime:fraction:)``) and sends the requests held while it ran.
    private func authenticated(sessionLifetimeMs: Int64) {
        let next: ContinuousClock.Instant? = if sessionLifetimeMs > 0 {
            ContinuousClock.now.advanced(by: Self.reauthenticationDelay(sessionLifetime: .milliseconds(sessionLifetimeMs),
                                                                        fraction: Double.random(in: 0.85...0.95)))
        } else {
            nil
        }
        state.withLock { state in
            state.reauth = next.map { .scheduled($0) } ?? .none
            state.releaseHeld()
        }
        wakeup.wake()
    }

    /// The shortest time a re-authentication is started before the session ends: requests in
    /// flight (a fetch waiting for records) are answered first, then the SASL exchange runs.
    static let reauthenticationMargin: Duration = .seconds(2)

    /// When to re-authenticate after the broker granted a session of `sessionLifetime`: at
    /// `fraction` of it (85–95 %, drawn at random, as the Java client does, so a fleet does not
    /// re-authenticate at once), but no later than ``reauthenticationMargin`` before it ends,
    /// and for a session shorter than twice that margin, at its half.
    ///
    /// A session bounded by an OAUTHBEARER token's expiry may so be renewed before the token
    /// source refreshes the token (at 80 % of its life): the broker then grants the shorter
    /// remainder, and the next renewal comes sooner, until the token is replaced.
    static func reauthenticationDelay(sessionLifetime: Duration, fraction: Double) -> Duration {
        let scheduled = sessionLifetime * fraction
        let margin = min(sessionLifetime / 2, reauthenticationMargin)
        return min(scheduled, sessionLifetime - margin)
    }

    /// Runs when the I/O thread found the session about to end and nothing in flight.
    private func reauthenticate() async {
        guard let sasl = configuration.sasl else { return }
        do throws(KafkaError) {
            try await authenticate(sasl)
        } catch {
            var failure = error
            failure.message = "re-authentication before the SASL session ended failed: " + error.message
            close(failure)
        }
    }

    // MARK: - I/O thread

    /// How many of the peer's first bytes an error quotes.
    static let excerptLength = 40

    /// The error for a peer whose first bytes are not a Kafka response (a NATS or HTTP server,
    /// a TLS port, …).
    private func notKafka(_ bytes: [UInt8], underlying: (any Error)? = nil) -> KafkaError {
        KafkaError(.protocolError, "\(endpoint) is not a Kafka broker (it sent \(Self.excerpt(bytes))); check the host and port in KafkaClientConfiguration.bootstrapServers (a TLS listener needs TLS)",
                   broker: endpoint, underlying: underlying)
    }

    /// Printable ASCII as is, other bytes as `\xNN`, quoted.
    static func excerpt(_ bytes: [UInt8]) -> String {
        var text = "\""
        for byte in bytes {
            switch byte {
            case 0x22: text += "\\\""
            case 0x5C: text += "\\\\"
            case 0x20...0x7E: text.unicodeScalars.append(Unicode.Scalar(byte))
            case 0x0A: text += "\\n"
            case 0x0D: text += "\\r"
            default: text += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        return text + (bytes.count >= excerptLength ? "…\"" : "\"")
    }

    /// The I/O thread: opens the stream, reports the outcome through `connected`, then moves
    /// bytes until the connection closes.
    private func ioMain(connected: (Result<Void, KafkaError>) -> Void) {
        let stream: any TransportStream
        do throws(TransportError) {
            stream = try configuration.connectionStreamFactory(address.host, address.port, configuration.connectTimeout)
        } catch {
            let failure = KafkaError.from(error, connecting: true)
            state.withLock { if $0.closedError == nil { $0.closedError = failure } }
            connected(.failure(failure))
            return
        }
        connected(.success(()))
        var decoder = KafkaFrameDecoder(maxFrameSize: configuration.maxResponseSize)
        var writing: [UInt8] = []
        var written = 0
        let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 8)
        defer { readBuffer.deallocate() }
        var failure: KafkaError?
        // The peer's first bytes and whether a frame matched a request yet: a peer whose first
        // bytes are no Kafka response is named as such instead of reported as a bad frame.
        var firstBytes: [UInt8] = []
        var answered = false

        loop: while true {
            // Take queued bytes and check deadlines.
            let now = ContinuousClock.now
            let (closed, expired, nextDeadline, startReauth): (KafkaError?, Bool, ContinuousClock.Instant?, Bool) = state.withLock { state in
                if written == writing.count && !state.outbound.isEmpty {
                    swap(&writing, &state.outbound)
                    state.outbound.removeAll(keepingCapacity: true)
                    written = 0
                }
                var next: ContinuousClock.Instant?
                var expired = false
                for pending in state.pending.values {
                    if pending.deadline <= now { expired = true }
                    next = next.map { min($0, pending.deadline) } ?? pending.deadline
                }
                // KIP-368: once the session is about to end, hold new requests; when every
                // request sent so far is answered, run the SASL exchange again.
                var startReauth = false
                if case .scheduled(let at) = state.reauth {
                    if at <= now { state.reauth = .draining } else { next = next.map { min($0, at) } ?? at }
                }
                if case .draining = state.reauth, state.pending.isEmpty, state.outbound.isEmpty, written == writing.count {
                    state.reauth = .exchanging
                    startReauth = true
                }
                return (state.closedError, expired, next, startReauth)
            }
            if let closed { failure = closed; break loop }
            if startReauth { Task { await self.reauthenticate() } }
            if expired {
                failure = KafkaError(.timedOut, "no response from \(endpoint) within the request timeout; the connection is closed (raise requestTimeout if the broker is slow)", broker: endpoint)
                break loop
            }

            // Write what we can.
            do throws(TransportError) {
                while written < writing.count {
                    let result = try writing.withBytes { (raw) throws(TransportError) in
                        try stream.write(UnsafeRawBufferPointer(rebasing: raw[written...]))
                    }
                    guard case .bytes(let n) = result else { break }
                    written += n
                }
            } catch {
                failure = KafkaError.from(error, connecting: false)
                break loop
            }
            if written == writing.count && writing.count > 4 * 1024 * 1024 {
                writing = []  // do not keep a large buffer alive
                written = 0
            }

            var waitMilliseconds: Int32 = 1000
            if let nextDeadline { waitMilliseconds = min(waitMilliseconds, max(0, (nextDeadline - now).pollMilliseconds)) }
            // TLS may hold decrypted bytes poll cannot see (read them now), or need the
            // descriptor writable before it can read.
            let buffered = stream.hasBufferedInput
            if buffered { waitMilliseconds = 0 }
            let wantsOut = written < writing.count || stream.readWantsWritable
            var fds = (pollfd(fd: stream.descriptor, events: Int16(POLLIN) | (wantsOut ? Int16(POLLOUT) : 0), revents: 0),
                       pollfd(fd: wakeup.readFD, events: Int16(POLLIN), revents: 0))
            let ready = withUnsafeMutableBytes(of: &fds) { pointer in
                pointer.withMemoryRebound(to: pollfd.self) { poll($0.baseAddress, 2, waitMilliseconds) }
            }
            if ready < 0 {
                if errno == EINTR { continue }
                failure = KafkaError(.connectionLost, "poll failed with errno \(errno)", broker: endpoint)
                break loop
            }
            if fds.1.revents != 0 { wakeup.drain() }
            let readable = fds.0.revents & Int16(POLLIN | POLLERR | POLLHUP) != 0
                || (stream.readWantsWritable && fds.0.revents & Int16(POLLOUT) != 0)
            guard readable || buffered else { continue }

            // Read what is there and hand out complete frames. A stream that buffers inside
            // itself (TLS) may hold bytes the descriptor no longer signals, so read on while it
            // says so; otherwise stop at a short read.
            do throws(TransportError) {
                while true {
                    let result = try stream.read(into: readBuffer)
                    guard case .bytes(let n) = result else { break }
                    if firstBytes.count < Self.excerptLength {
                        firstBytes += UnsafeRawBufferPointer(rebasing: readBuffer[0..<min(n, Self.excerptLength - firstBytes.count)])
                    }
                    decoder.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]))
                    if n < readBuffer.count && !stream.hasBufferedInput { break }
                }
            } catch {
                failure = KafkaError.from(error, connecting: false)
            }
            var completions: [(Completion, Result<[UInt8], KafkaError>)] = []
            do throws(WireDecodingError) {
                while let frame = try decoder.next() {
                    let id = Int32(bitPattern: UInt32(frame[0]) << 24 | UInt32(frame[1]) << 16 | UInt32(frame[2]) << 8 | UInt32(frame[3]))
                    let (match, ignored) = state.withLock { state -> (Pending?, Bool) in
                        if let pending = state.pending.removeValue(forKey: id) { return (pending, false) }
                        return (nil, state.unanswered.remove(id) != nil)
                    }
                    if ignored { continue }
                    guard let pending = match else {
                        failure = answered
                            ? KafkaError(.protocolError, "\(endpoint) sent a response with correlation id \(id), which matches no request in flight; the connection is closed", broker: endpoint)
                            : notKafka(firstBytes)
                        break
                    }
                    answered = true
                    completions.append((pending.complete, .success(frame)))
                }
            } catch {
                failure = answered
                    ? KafkaError(.protocolError, "\(endpoint) sent a malformed frame: \(error); the connection is closed", broker: endpoint, underlying: error)
                    : notKafka(firstBytes, underlying: error)
            }
            for (complete, result) in completions { complete(result) }
            if failure != nil { break loop }
        }

        // Tear down: fail everything in flight.
        let error = failure ?? KafkaError(.connectionLost, "the connection to \(endpoint) ended", broker: endpoint)
        let pending: [Pending] = state.withLock { state in
            if state.closedError == nil { state.closedError = error.code == .timedOut ? KafkaError(.connectionLost, error.message, broker: endpoint) : error }
            let all = Array(state.pending.values) + state.held.compactMap(\.pending)
            state.pending.removeAll()
            state.held.removeAll()
            state.outbound.removeAll()
            return all
        }
        stream.shutdown()
        stream.close()
        let now = ContinuousClock.now
        for item in pending {
            var itemError = error
            if error.code == .timedOut && item.deadline > now {
                // Only the requests that waited too long timed out; the rest lost their connection.
                itemError = KafkaError(.connectionLost, "the connection to \(endpoint) was closed after another request timed out", broker: endpoint)
            }
            itemError.api = item.api
            item.complete(.failure(itemError))
        }
    }
}

