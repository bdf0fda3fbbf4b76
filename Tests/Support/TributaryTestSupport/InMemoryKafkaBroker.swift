#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TributaryKafkaProtocol
import TributaryTransport
import TributaryWire

/// A scripted Kafka broker reached through in-memory stream pairs (`socketpair`): no port, no
/// network, no broker process.
///
/// Hand ``streamFactory`` to `KafkaClientConfiguration.streamFactory` and use
/// ``bootstrapServers`` as the bootstrap list. Every connection the client opens runs `script`
/// on a thread of its own with a ``FakeKafkaConnection`` (the broker's end) and the connection's
/// index (0 for the first). The script decides everything: it reads request frames
/// (``FakeKafkaConnection/readRequest(timeout:)``), decodes their bodies with the generated
/// request types, and writes responses built with the generated response types
/// (``FakeKafkaConnection/respond(_:to:)``) or hand-made bytes
/// (``FakeKafkaConnection/writeResponseFrame(correlationID:headerVersion:body:)``). When the
/// script returns, its connection is closed.
///
/// For the usual set-up, ``FakeKafkaConnection/serve(topics:apiVersions:timeout:_:)`` answers
/// ApiVersions (with the versions the client supports) and Metadata (naming this broker as node
/// 0, leader of every partition) itself and hands every other request, of any API key, to the
/// script's closure. ``listening(script:)`` serves the same scripts on a TCP port, for a client
/// in another process (a tool).
///
/// ```swift
/// let broker = InMemoryKafkaBroker { connection, _ in
///     connection.serve(topics: [.init(name: "orders", partitions: 1)]) { request in
///         guard request.api == .produce, let produce = try? request.decode(ProduceRequest.self) else { return false }
///         var response = ProduceResponse()
///         // ... fill it in from `produce`
///         return (try? connection.respond(response, to: request)) ?? false   // false ends the connection
///     }
/// }
/// var configuration = try KafkaClientConfiguration(bootstrapServers: broker.bootstrapServers)
/// configuration.streamFactory = broker.streamFactory
/// ```
public final class InMemoryKafkaBroker: Sendable {
    /// The host the broker calls itself in Metadata (never resolved: the factory ignores it).
    public let host: String
    /// The port the broker calls itself in Metadata.
    public let port: Int32
    private let script: @Sendable (FakeKafkaConnection, Int) -> Void
    private let state = Locked<(accepted: Int, listener: Int32?)>((0, nil))
    private let peers = OpenDescriptors()

    /// Creates a broker that runs `script` for each connection; `host` and `port` are what it
    /// names itself in Metadata and in ``bootstrapServers``.
    public init(host: String = "127.0.0.1", port: Int32 = 9092, script: @escaping @Sendable (FakeKafkaConnection, Int) -> Void) {
        self.host = host
        self.port = port
        self.script = script
    }

    /// `host:port`, for `KafkaClientConfiguration(bootstrapServers:)`.
    public var bootstrapServers: String { "\(host):\(port)" }

    /// Connections opened so far.
    public var acceptedCount: Int { state.withLock { $0.accepted } }

    /// The factory to put in `KafkaClientConfiguration.streamFactory`: every call makes a
    /// socket pair, starts the script on the broker's end and returns the client's end.
    public var streamFactory: TransportStreamFactory {
        { [self] (host, port, _) throws(TransportError) -> any TransportStream in
            var fds: [Int32] = [0, 0]
            #if canImport(Glibc)
            let kind = Int32(SOCK_STREAM.rawValue)
            #else
            let kind = SOCK_STREAM
            #endif
            guard socketpair(AF_UNIX, kind, 0, &fds) == 0 else {
                throw TransportError(code: .connectionRefused, endpoint: "\(host):\(port)", message: "socketpair failed")
            }
            let index = state.withLock { s -> Int in
                s.accepted += 1
                return s.accepted - 1
            }
            peers.add(fds[1])
            let peerFD = fds[1]
            let peer = FakeKafkaConnection(fd: peerFD, broker: self)
            let script = self.script
            let thread = Thread { [self] in
                script(peer, index)
                peers.close(peerFD)
            }
            thread.start()
            return SocketStream(TCPSocket(adopting: fds[0], endpoint: "\(host):\(port)"))
        }
    }

    /// Shuts every broker end still open down: the scripts' reads end and the client sees the
    /// connections close.
    public func stop() {
        peers.shutDownAll()
        let listener = state.withLock { s -> Int32? in
            defer { s.listener = nil }
            return s.listener
        }
        if let listener {
            shutdown(listener, Int32(SHUT_RDWR))
            #if canImport(Glibc)
            Glibc.close(listener)
            #else
            Darwin.close(listener)
            #endif
        }
    }

    /// A broker on a real TCP port of 127.0.0.1 (chosen free), for a client in another process
    /// such as the `kafka-cat` tool: each accepted connection runs `script` as with
    /// ``streamFactory``, and Metadata names `127.0.0.1:port`. ``stop()`` stops accepting.
    ///
    /// - Throws: `BrokerEnvironmentError` when the port cannot be opened.
    public static func listening(script: @escaping @Sendable (FakeKafkaConnection, Int) -> Void) throws -> InMemoryKafkaBroker {
        let fd = try BrokerSocket.listen(port: 0, backlog: 16, owner: "in-memory Kafka broker")
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let broker = InMemoryKafkaBroker(host: "127.0.0.1", port: Int32(UInt16(bigEndian: address.sin_port)), script: script)
        broker.state.withLock { $0.listener = fd }
        Thread { [broker] in
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                let index = broker.state.withLock { s -> Int in
                    s.accepted += 1
                    return s.accepted - 1
                }
                broker.peers.add(client)
                let peer = FakeKafkaConnection(fd: client, broker: broker)
                Thread {
                    broker.script(peer, index)
                    broker.peers.close(client)
                }.start()
            }
        }.start()
        return broker
    }

    /// A topic the Metadata helper reports: `partitions` partitions, all led by node 0.
    public struct Topic: Sendable, Hashable {
        /// The topic name.
        public var name: String
        /// How many partitions it has (0..<partitions).
        public var partitions: Int32

        /// Creates a topic description.
        public init(name: String, partitions: Int32 = 1) {
            self.name = name
            self.partitions = partitions
        }
    }
}

/// The broker's end of one connection of an ``InMemoryKafkaBroker``. Used by one script thread.
public final class FakeKafkaConnection: Sendable {
    /// The largest request frame accepted (larger sizes end the connection, nothing is
    /// allocated for them).
    public static let maxRequestSize = 128 * 1024 * 1024

    /// One request frame as the client sent it.
    public struct Request: Sendable {
        /// The decoded request header (API key, version, correlation id, client id).
        public let header: KafkaRequestHeader
        /// The body bytes after the header, for ``decode(_:)`` or hand inspection.
        public let body: [UInt8]

        /// The raw API key.
        public var apiKey: Int16 { header.apiKey }
        /// The API, when Tributary knows it.
        public var api: KafkaAPIKey? { header.api }
        /// The request version.
        public var apiVersion: Int16 { header.apiVersion }
        /// The correlation id to answer with.
        public var correlationID: Int32 { header.correlationID }
        /// The client id in the header.
        public var clientID: String? { header.clientID }

        /// Decodes the body with the generated decoder of `type`.
        ///
        /// - Throws: `WireDecodingError` when the body is not a `type` at ``apiVersion``.
        public func decode<Message: KafkaRequestMessage>(_ type: Message.Type) throws(WireDecodingError) -> Message {
            var reader = ByteReader(body)
            return try KafkaFraming.decodeRequestBody(type, header: header, from: &reader)
        }
    }

    let fd: Int32
    private let broker: InMemoryKafkaBroker
    /// Bytes read but not yet handed out as a frame. Only the script thread touches it.
    private let pending = Locked<[UInt8]>([])

    init(fd: Int32, broker: InMemoryKafkaBroker) {
        self.fd = fd
        self.broker = broker
    }

    // MARK: Reading

    /// Reads the next request frame; nil when the client closed the connection, the frame is
    /// malformed or larger than ``maxRequestSize``, or `timeout` passed.
    public func readRequest(timeout: Duration = .seconds(60)) -> Request? {
        let deadline = ContinuousClock.now + timeout
        guard let sizeBytes = readExactly(4, deadline: deadline) else { return nil }
        let size = Int(Int32(bitPattern: UInt32(sizeBytes[0]) << 24 | UInt32(sizeBytes[1]) << 16 | UInt32(sizeBytes[2]) << 8 | UInt32(sizeBytes[3])))
        guard size >= 8, size <= Self.maxRequestSize, let frame = readExactly(size, deadline: deadline) else { return nil }
        var reader = ByteReader(frame)
        guard let header = try? KafkaRequestHeader(from: &reader) else { return nil }
        return Request(header: header, body: Array(reader.remainingBytes))
    }

    private func readExactly(_ count: Int, deadline: ContinuousClock.Instant) -> [UInt8]? {
        var buffer = pending.withLock { pending -> [UInt8] in
            defer { pending.removeAll() }
            return pending
        }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while buffer.count < count {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                pending.withLock { $0 = buffer }
                return nil
            }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let wait = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000, 100))
            guard poll(&pfd, 1, max(wait, 1)) > 0 else { continue }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<n])
        }
        if buffer.count > count {
            pending.withLock { $0 = Array(buffer[count...]) }
            buffer.removeSubrange(count...)
        }
        return buffer
    }

    /// Waits until the client closes the connection (or `timeout` passes), discarding whatever
    /// it sends; true when it closed.
    public func waitForClose(timeout: Duration = .seconds(5)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 50) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return true }
        }
        return false
    }

    // MARK: Writing

    /// Writes `response` as the answer to `request`, at the request's version, with the
    /// generated encoder.
    ///
    /// - Throws: `WireEncodingError` when `response` cannot be encoded at that version.
    /// - Returns: false when the client has closed the connection.
    @discardableResult
    public func respond<Response: KafkaResponseMessage>(_ response: Response, to request: Request) throws(WireEncodingError) -> Bool {
        try respond(response, version: request.apiVersion, correlationID: request.correlationID)
    }

    /// Writes `response` at `version` for `correlationID`.
    ///
    /// - Throws: `WireEncodingError` when `response` cannot be encoded at `version`.
    /// - Returns: false when the client has closed the connection.
    @discardableResult
    public func respond<Response: KafkaResponseMessage>(_ response: Response, version: Int16, correlationID: Int32) throws(WireEncodingError) -> Bool {
        var writer = ByteWriter(capacity: 256)
        try KafkaFraming.appendResponse(response, version: version, correlationID: correlationID, to: &writer)
        return write(writer.bytes)
    }

    /// Writes a response frame with a hand-made body: size, correlation id, an empty tagged
    /// field section when `headerVersion` is 1, then `body`.
    ///
    /// - Returns: false when the client has closed the connection.
    @discardableResult
    public func writeResponseFrame(correlationID: Int32, headerVersion: Int16, body: [UInt8]) -> Bool {
        var writer = ByteWriter(capacity: body.count + 16)
        writer.writeInt32(Int32(truncatingIfNeeded: 4 + (headerVersion >= 1 ? 1 : 0) + body.count))
        writer.writeInt32(correlationID)
        if headerVersion >= 1 { writer.writeUInt8(0) }
        writer.writeRawBytes(body)
        return write(writer.bytes)
    }

    /// Writes raw bytes (a frame, part of one, or anything else).
    ///
    /// - Returns: false when the client has closed the connection.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            #if canImport(Glibc)
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            #else
            let n = bytes.withUnsafeBytes { Darwin.send(fd, $0.baseAddress! + offset, $0.count - offset, 0) }
            #endif
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    // MARK: Helpers for the usual set-up

    /// Answers ApiVersions: every API in `versions`, or by default every API Tributary
    /// implements with the version range it supports (so the client picks its newest).
    ///
    /// - Returns: false when the client has closed the connection.
    @discardableResult
    public func answerApiVersions(_ request: Request, versions: [KafkaAPIKey: ClosedRange<Int16>]? = nil) -> Bool {
        let table = versions ?? Dictionary(uniqueKeysWithValues: KafkaAPIKey.allCases.map { ($0, $0.supportedVersions) })
        var response = ApiVersionsResponse()
        response.apiKeys = table.sorted { $0.key.rawValue < $1.key.rawValue }.map {
            ApiVersionsResponse.APIVersion(apiKey: $0.key.rawValue, minVersion: $0.value.lowerBound, maxVersion: $0.value.upperBound)
        }
        // The client may ask at a version newer than this encoder knows; answer at the newest
        // known one (the ApiVersions response header never has tagged fields, KIP-511).
        let version = min(request.apiVersion, ApiVersionsResponse.supportedVersions.upperBound)
        return (try? respond(response, version: version, correlationID: request.correlationID)) ?? false
    }

    /// Answers Metadata: this broker as node 0 (and controller), and `topics` with every
    /// partition led by node 0. Topics the request names that are not in `topics` are
    /// answered with UNKNOWN_TOPIC_OR_PARTITION.
    ///
    /// - Returns: false when the client has closed the connection or the request does not decode.
    @discardableResult
    public func answerMetadata(_ request: Request, topics: [InMemoryKafkaBroker.Topic]) -> Bool {
        guard let decoded = try? request.decode(MetadataRequest.self) else { return false }
        var response = MetadataResponse()
        response.brokers = [.init(nodeID: 0, host: broker.host, port: broker.port, rack: nil)]
        response.clusterID = "in-memory"
        response.controllerID = 0
        let known = Dictionary(topics.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let wanted: [String] = decoded.topics.map { $0.compactMap(\.name) } ?? topics.map(\.name)
        response.topics = wanted.map { name in
            guard let topic = known[name] else {
                return MetadataResponse.MetadataResponseTopic(errorCode: KafkaErrorCode.unknownTopicOrPartition.rawValue, name: name)
            }
            return MetadataResponse.MetadataResponseTopic(name: name, partitions: (0..<topic.partitions).map {
                .init(partitionIndex: $0, leaderID: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0])
            })
        }
        return (try? respond(response, to: request)) ?? false
    }

    /// Serves requests until the client closes the connection, `timeout` passes without a
    /// request, or `handle` returns false: ApiVersions and Metadata are answered here (see
    /// ``answerApiVersions(_:versions:)`` and ``answerMetadata(_:topics:)``); every other
    /// request goes to `handle`, which answers it (or not) as the test needs.
    public func serve(topics: [InMemoryKafkaBroker.Topic], apiVersions: [KafkaAPIKey: ClosedRange<Int16>]? = nil,
                      timeout: Duration = .seconds(300), _ handle: (Request) -> Bool) {
        while let request = readRequest(timeout: timeout) {
            switch request.api {
            case .apiVersions?:
                guard answerApiVersions(request, versions: apiVersions) else { return }
            case .metadata?:
                guard answerMetadata(request, topics: topics) else { return }
            default:
                guard handle(request) else { return }
            }
        }
    }
}
