#if canImport(Glibc)
import TributaryWire
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import COpenSSL
import Synchronization
import TributaryTransport

/// A TLS client connection over a connected `TransportStream` (OpenSSL 3).
///
/// `upgrade(_:configuration:serverName:timeout:)` runs the handshake on a stream that is already
/// connected (NATS upgrades after the server's plaintext INFO); `factory(_:)` connects over TCP
/// and then runs it (Kafka, NATS TLS-first). After the handshake, `read` and `write` may come
/// from different threads (`allowsConcurrentWrite`): a lock serializes every call into the TLS
/// session, and neither call waits on the network (non-blocking). Bytes travel through the inner
/// stream's `read` and `write`, so any stream (a socket, one end of an in-memory pair) can carry TLS.
public final class TLSStream: TransportStream, @unchecked Sendable {
    // @unchecked: `ssl`, `io`, `wantsWritable` and `mayHaveInput` are used under `lock` only
    // (the handshake runs before the stream is shared); `closed` is atomic.
    private let ssl: OpaquePointer
    private let io: IOBox
    private let closed = Atomic<Bool>(false)
    private let lock = Locked<Void>(())
    private var wantsWritable = false
    /// Set by a read that returned bytes, cleared by one that would block: with read-ahead, the
    /// session may hold whole records after a successful read, but only a partial one after a
    /// read that needed more input (which `poll` then reports).
    private var mayHaveInput = false
    /// Whether the server's certificate is verified (the verify result is meaningless otherwise).
    private var verifies = true

    /// The negotiated protocol version, e.g. "TLSv1.3".
    public let protocolVersion: String

    private init(ssl: OpaquePointer, io: IOBox) {
        self.ssl = ssl
        self.io = io
        protocolVersion = String(cString: SSL_get_version(ssl))
    }

    deinit {
        if !closed.load(ordering: .acquiring) { io.inner.close() }
        SSL_free(ssl)
    }

    /// Runs the TLS handshake over `inner` and returns the encrypted stream. On failure `inner`
    /// is closed.
    ///
    /// - Parameters:
    ///   - serverName: the name checked against the certificate and sent as SNI (an IP address
    ///     is checked against the certificate's IP entries and not sent as SNI), unless
    ///     `configuration.serverName` overrides it.
    ///   - timeout: time limit for the whole handshake.
    /// - Throws: `TransportError` with a TLS code (`.tlsConfiguration`, `.tlsVerification` with the
    ///   failed check, `.tlsPeerRejectedCertificate`, `.tlsHandshake`, `.tlsHandshakeTimedOut`).
    public static func upgrade(_ inner: any TransportStream, configuration: TLSConfiguration, serverName: String,
                               timeout: Duration) throws(TransportError) -> TLSStream {
        let endpoint = inner.peerAddress
        let stream: TLSStream
        do throws(TransportError) {
            let context = try TLSContext.make(configuration, endpoint: endpoint)
            defer { SSL_CTX_free(context) }
            guard let ssl = SSL_new(context) else {
                throw TransportError(code: .tlsConfiguration, endpoint: endpoint, message: "could not create a TLS session: \(OpenSSLErrors.drain())")
            }
            let io = IOBox(inner)
            stream = TLSStream(ssl: ssl, io: io)
            guard let bio = BIO_new(StreamBIO.method) else {
                throw TransportError(code: .tlsConfiguration, endpoint: endpoint, message: "could not create a TLS I/O object: \(OpenSSLErrors.drain())")
            }
            BIO_set_data(bio, Unmanaged.passUnretained(io).toOpaque())
            BIO_set_init(bio, 1)
            SSL_set_bio(ssl, bio, bio)
            _ = tributary_SSL_set_partial_moving_writes(ssl)
            // Read ahead into a 64 KiB buffer: one socket read brings several records instead of
            // two reads (header, then body) per record; `hasBufferedInput` reports what is left.
            SSL_set_read_ahead(ssl, 1)
            SSL_set_default_read_buffer_len(ssl, 64 * 1024)
            stream.verifies = !configuration.dangerouslyDisableCertificateVerification
            try stream.setPeerName(configuration.serverName ?? serverName, verify: !configuration.dangerouslyDisableCertificateVerification, endpoint: endpoint)
            try stream.handshake(timeout: configuration.handshakeTimeout ?? timeout, endpoint: endpoint)
        } catch {
            inner.close()
            throw error
        }
        return stream
    }

    /// A factory that connects with `tcp` and then runs the TLS handshake with `configuration`,
    /// checking the certificate against `configuration.serverName` or the host connected to.
    public static func factory(_ configuration: TLSConfiguration,
                               tcp: @escaping TransportStreamFactory = SocketStream.tcp) -> TransportStreamFactory {
        { (host, port, timeout) throws(TransportError) in
            let inner = try tcp(host, port, timeout)
            return try TLSStream.upgrade(inner, configuration: configuration, serverName: host,
                                         timeout: timeout)
        }
    }

    // MARK: TransportStream

    public var descriptor: Int32 { io.inner.descriptor }
    public var peerAddress: String { io.inner.peerAddress }
    public var allowsConcurrentWrite: Bool { true }
    public var hasBufferedInput: Bool {
        lock.withLock { _ in mayHaveInput && SSL_has_pending(ssl) == 1 }
    }
    public var readWantsWritable: Bool { lock.withLock { _ in wantsWritable } }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TransportError) -> TCPSocket.IOResult {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .bytes(0) }
        return try locked { () throws(TransportError) -> TCPSocket.IOResult in
            ERR_clear_error()
            var count = 0
            if SSL_read_ex(ssl, base, buffer.count, &count) == 1 {
                wantsWritable = false
                mayHaveInput = true
                return .bytes(count)
            }
            mayHaveInput = false
            return try failedIO(SSL_get_error(ssl, 0), operation: "read")
        }
    }

    public func write(_ buffer: UnsafeRawBufferPointer) throws(TransportError) -> TCPSocket.IOResult {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .bytes(0) }
        return try locked { () throws(TransportError) -> TCPSocket.IOResult in
            ERR_clear_error()
            var count = 0
            if SSL_write_ex(ssl, base, buffer.count, &count) == 1 { return .bytes(count) }
            do throws(TransportError) {
                return try failedIO(SSL_get_error(ssl, 0), operation: "write")
            } catch {
                // With TLS 1.3 the server judges our certificate after our handshake ends: its
                // alert and its reset can meet our first write. The alert may still be readable.
                if let rejection = pendingRejection() { throw rejection }
                throw error
            }
        }
    }

    /// After a failed write: the server's rejection of our certificate when its alert is waiting
    /// to be read, else nil.
    private func pendingRejection() -> TransportError? {
        ERR_clear_error()
        var scratch = [UInt8](repeating: 0, count: 512)
        var count = 0
        let read = scratch.withUnsafeMutableBytes { SSL_read_ex(ssl, $0.baseAddress, $0.count, &count) }
        guard read != 1, SSL_get_error(ssl, 0) == SSL_ERROR_SSL else { return nil }
        _ = io.takeError()
        let error = OpenSSLErrors.classify(endpoint: io.inner.peerAddress, during: "write", ssl: nil, defaultCode: .tlsIO)
        return error.code == .tlsPeerRejectedCertificate ? error : nil
    }

    private func locked(_ body: () throws(TransportError) -> TCPSocket.IOResult) throws(TransportError) -> TCPSocket.IOResult {
        let result: Result<TCPSocket.IOResult, TransportError> = lock.withLock { _ in
            do throws(TransportError) { return .success(try body()) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public func shutdown() { io.inner.shutdown() }

    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        io.inner.close()
    }

    // MARK: Internals

    private func failedIO(_ code: Int32, operation: String) throws(TransportError) -> TCPSocket.IOResult {
        let endpoint = io.inner.peerAddress
        switch code {
        case SSL_ERROR_WANT_READ:
            if operation == "read" { wantsWritable = false }
            return .wouldBlock
        case SSL_ERROR_WANT_WRITE:
            if operation == "read" { wantsWritable = true }
            return .wouldBlock
        case SSL_ERROR_ZERO_RETURN:
            throw TransportError(code: .closedByPeer, endpoint: endpoint, message: "the server closed the TLS connection")
        case SSL_ERROR_SYSCALL:
            if let error = io.takeError() { throw error }
            if io.endOfStream {
                throw TransportError(code: .closedByPeer, endpoint: endpoint, message: "connection closed by peer (without a TLS close_notify)")
            }
            throw TransportError(code: .tlsIO, endpoint: endpoint, message: "TLS \(operation) failed: \(OpenSSLErrors.drain())")
        default:
            if let error = io.takeError() { throw error }
            throw OpenSSLErrors.classify(endpoint: endpoint, during: operation, ssl: verifies ? ssl : nil, defaultCode: .tlsIO)
        }
    }

    private func setPeerName(_ name: String, verify: Bool, endpoint: String) throws(TransportError) {
        let host = name.hasPrefix("[") && name.hasSuffix("]") ? String(name.dropFirst().dropLast()) : name
        let isIP = Self.isIPAddress(host)
        if !isIP, !host.isEmpty {
            _ = tributary_SSL_set_tlsext_host_name(ssl, host)
        }
        guard verify else { return }
        let ok: Int32
        if isIP {
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host)
        } else {
            ok = SSL_set1_host(ssl, host)
        }
        if ok != 1 {
            throw TransportError(code: .tlsConfiguration, endpoint: endpoint,
                                 message: "cannot check the server's certificate against the name '\(host)': \(OpenSSLErrors.drain())")
        }
    }

    private func handshake(timeout: Duration, endpoint: String) throws(TransportError) {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            ERR_clear_error()
            let result = SSL_connect(ssl)
            if result == 1 { return }
            let code = SSL_get_error(ssl, result)
            let events: Int16
            switch code {
            case SSL_ERROR_WANT_READ: events = Int16(POLLIN)
            case SSL_ERROR_WANT_WRITE: events = Int16(POLLOUT)
            case SSL_ERROR_SYSCALL where io.endOfStream && io.pendingError == nil:
                throw TransportError(code: .tlsHandshake, endpoint: endpoint,
                                     message: "the peer closed the connection during the TLS handshake; is it a TLS endpoint, and does it accept this client?")
            default:
                if let error = io.takeError() { throw error }
                throw OpenSSLErrors.classify(endpoint: endpoint, during: "handshake", ssl: verifies ? ssl : nil, defaultCode: .tlsHandshake)
            }
            let left = deadline - clock.now
            let ready = left > .zero ? try io.inner.waitFor(events: events, timeout: left) : false
            if !ready {
                throw TransportError(code: .tlsHandshakeTimedOut, endpoint: endpoint,
                                     message: "the TLS handshake did not finish within \(timeout); is the server speaking TLS on this port?")
            }
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}

/// The inner stream and what its last operation reported, reached from the BIO callbacks.
final class IOBox: @unchecked Sendable {
    // @unchecked: used only by the thread that owns the TLS stream.
    let inner: any TransportStream
    var pendingError: TransportError?
    var endOfStream = false

    init(_ inner: any TransportStream) { self.inner = inner }

    func takeError() -> TransportError? {
        defer { pendingError = nil }
        return pendingError
    }
}

/// A BIO method whose reads and writes go to an `IOBox`'s stream.
enum StreamBIO {
    nonisolated(unsafe) static let method: OpaquePointer = {
        let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tributary stream")!
        BIO_meth_set_write(method) { bio, data, length in
            guard let bio, let data, length > 0 else { return 0 }
            let box = Unmanaged<IOBox>.fromOpaque(BIO_get_data(bio)).takeUnretainedValue()
            tributary_BIO_clear_retry_flags(bio)
            do throws(TransportError) {
                switch try box.inner.write(UnsafeRawBufferPointer(start: data, count: Int(length))) {
                case .bytes(let n): return Int32(n)
                case .wouldBlock:
                    tributary_BIO_set_retry_write(bio)
                    return -1
                }
            } catch {
                box.pendingError = error
                return -1
            }
        }
        BIO_meth_set_read(method) { bio, data, length in
            guard let bio, let data, length > 0 else { return 0 }
            let box = Unmanaged<IOBox>.fromOpaque(BIO_get_data(bio)).takeUnretainedValue()
            tributary_BIO_clear_retry_flags(bio)
            do throws(TransportError) {
                switch try box.inner.read(into: UnsafeMutableRawBufferPointer(start: data, count: Int(length))) {
                case .bytes(let n):
                    if n == 0 { box.endOfStream = true }
                    return Int32(n)
                case .wouldBlock:
                    tributary_BIO_set_retry_read(bio)
                    return -1
                }
            } catch {
                if error.code == .closedByPeer {
                    box.endOfStream = true
                    return 0
                }
                box.pendingError = error
                return -1
            }
        }
        BIO_meth_set_ctrl(method) { _, command, _, _ in
            command == tributary_BIO_CTRL_FLUSH() ? 1 : 0
        }
        return method
    }()
}
