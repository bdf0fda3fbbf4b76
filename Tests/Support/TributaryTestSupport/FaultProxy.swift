import TributaryWire
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP proxy on 127.0.0.1 between a client and a broker that can cut connections in the
/// middle of a frame: after every `cutClientBytes` bytes from client to broker, or every
/// `cutServerBytes` bytes from broker to client, it forwards part of the chunk at hand and then
/// closes both sides. Each connection pair runs on its own thread with `poll`.
public final class FaultProxy: Sendable {
    /// Where the proxy listens.
    public let port: Int
    private let upstreamPort: Int
    private let listener: Int32

    private struct State {
        var cutClientBytes: Int?
        var cutServerBytes: Int?
        var cuts = 0
        var connections = 0
        var stopped = false
        var pairs: [Int: (Int32, Int32)] = [:]
        var nextPair = 0
    }
    private let state = Locked(State())

    /// Listens on `port` (a free port when nil) and forwards to 127.0.0.1:`upstreamPort`.
    public init(port: Int? = nil, upstreamPort: Int) throws {
        self.port = try port ?? freePort()
        self.upstreamPort = upstreamPort
        listener = try BrokerSocket.listen(port: self.port, backlog: 64, owner: "fault proxy")
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "fault-proxy-accept"
        thread.start()
    }

    /// Cut each connection after this many bytes from the client (nil: never).
    public func cutClient(every bytes: Int?) { state.withLock { $0.cutClientBytes = bytes } }
    /// Cut each connection after this many bytes from the broker (nil: never).
    public func cutServer(every bytes: Int?) { state.withLock { $0.cutServerBytes = bytes } }
    /// How many connections the proxy cut.
    public var cuts: Int { state.withLock { $0.cuts } }
    /// How many client connections it accepted.
    public var connections: Int { state.withLock { $0.connections } }

    /// Stops accepting and closes every connection.
    public func stop() {
        // Under the lock: a pump closes its descriptors only under it, after forgetting them, so
        // no number shut down here can already belong to another socket of the process.
        state.withLock { state in
            state.stopped = true
            for (a, b) in state.pairs.values {
                shutdown(a, Int32(SHUT_RDWR))
                shutdown(b, Int32(SHUT_RDWR))
            }
        }
        shutdown(listener, Int32(SHUT_RDWR))
    }

    deinit { close(listener) }

    private func acceptLoop() {
        BrokerSocket.acceptPairs(listener: listener, upstreamPort: upstreamPort, keepGoing: { !state.withLock { $0.stopped } }) { client, upstream in
            let id = state.withLock { state -> Int in
                state.connections += 1
                state.nextPair += 1
                state.pairs[state.nextPair] = (client, upstream)
                return state.nextPair
            }
            let thread = Thread { [self] in pump(id: id, client: client, upstream: upstream) }
            thread.name = "fault-proxy-pump"
            thread.start()
        }
    }

    private func pump(id: Int, client: Int32, upstream: Int32) {
        defer {
            state.withLock { state in
                _ = state.pairs.removeValue(forKey: id)
                close(client)
                close(upstream)
            }
        }
        var fromClient = 0
        var fromServer = 0
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var fds = (pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: upstream, events: Int16(POLLIN), revents: 0))
            let ready = withUnsafeMutableBytes(of: &fds) { raw in
                raw.withMemoryRebound(to: pollfd.self) { poll($0.baseAddress, 2, 200) }
            }
            if state.withLock({ $0.stopped }) { return }
            if ready < 0 && errno != EINTR { return }
            guard ready > 0 else { continue }
            for (source, target, isClient) in [(fds.0, upstream, true), (fds.1, client, false)] where source.revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(source.fd, $0.baseAddress, $0.count) }
                if n <= 0 { return }
                let limit = state.withLock { isClient ? $0.cutClientBytes : $0.cutServerBytes }
                var count = n
                var cut = false
                let seen = isClient ? fromClient : fromServer
                if let limit, seen + n >= limit {
                    // Forward only part of this chunk, then cut: the peer sees half a frame.
                    count = max(0, min(n - 1, limit - seen))
                    cut = true
                }
                var written = 0
                while written < count {
                    let w = buffer.withUnsafeBytes { send(target, $0.baseAddress! + written, count - written, Int32(MSG_NOSIGNAL)) }
                    if w <= 0 { return }
                    written += w
                }
                if isClient { fromClient += count } else { fromServer += count }
                if cut {
                    state.withLock { $0.cuts += 1 }
                    shutdown(client, Int32(SHUT_RDWR))
                    shutdown(upstream, Int32(SHUT_RDWR))
                    return
                }
            }
        }
    }
}
