#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import TributaryTransport
import TributaryWire

/// A scripted NATS peer reached through an in-memory stream pair (`socketpair`): no port, no
/// network. Hand `streamFactory` to `NATSOptions.streamFactory`; every connection the client
/// opens runs `script` on a thread of its own with the peer end and the connection's index.
public final class InMemoryNATSServer: Sendable {
    private let script: @Sendable (FakeNATSConnection, Int) -> Void
    private let accepted = Locked(0)
    private let peers = OpenDescriptors()

    /// Creates a server that runs `script` for each connection.
    public init(script: @escaping @Sendable (FakeNATSConnection, Int) -> Void) {
        self.script = script
    }

    /// Connections opened so far.
    public var acceptedCount: Int { accepted.withLock { $0 } }

    /// The factory to put in `NATSOptions.streamFactory`.
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
            let index = accepted.withLock { count -> Int in count += 1; return count - 1 }
            peers.add(fds[1])
            // A script's reads wait up to two minutes: `stop()` ends them when the test ends, and
            // a short wait ended scripts early (and failed their tests) on a loaded machine or
            // under ThreadSanitizer, where the client took more than 5 s to send what was awaited.
            let peerFD = fds[1]
            let peer = FakeNATSConnection(fd: peerFD, defaultTimeout: .seconds(120))
            let script = self.script
            let thread = Thread { [self] in
                script(peer, index)
                peers.close(peerFD)
            }
            thread.start()
            return SocketStream(TCPSocket(adopting: fds[0], endpoint: "\(host):\(port)"))
        }
    }

    /// Shuts down the peer ends whose scripts still run (their reads end).
    public func stop() {
        peers.shutDownAll()
    }
}

/// A clock that moves only when told: time-dependent behaviour (keep-alive, backoff, request
/// timeouts) is tested without waiting for it.
public final class ManualClock: MonotonicClock {
    private let state = Locked<(now: MonotonicInstant, handlers: [@Sendable () -> Void])>((MonotonicInstant(nanoseconds: 1_000_000_000), []))

    /// Creates a clock at an arbitrary fixed instant.
    public init() {}

    public func now() -> MonotonicInstant { state.withLock { $0.now } }

    public func onAdvance(_ handler: @escaping @Sendable () -> Void) {
        state.withLock { $0.handlers.append(handler) }
    }

    /// Moves time forward and wakes whoever sleeps on this clock.
    public func advance(by duration: Duration) {
        let handlers = state.withLock { s -> [@Sendable () -> Void] in
            s.now = s.now.advanced(by: duration)
            return s.handlers
        }
        for handler in handlers { handler() }
    }
}
