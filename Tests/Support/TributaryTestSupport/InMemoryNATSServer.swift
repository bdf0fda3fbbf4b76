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
    private let state = Locked<(accepted: Int, peers: [Int32])>((0, []))

    /// Creates a server that runs `script` for each connection.
    public init(script: @escaping @Sendable (FakeNATSConnection, Int) -> Void) {
        self.script = script
    }

    /// Connections opened so far.
    public var acceptedCount: Int { state.withLock { $0.accepted } }

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
            let index = state.withLock { s -> Int in
                s.accepted += 1
                s.peers.append(fds[1])
                return s.accepted - 1
            }
            // A script's reads wait up to two minutes: `stop()` ends them when the test ends, and
            // a short wait ended scripts early (and failed their tests) on a loaded machine or
            // under ThreadSanitizer, where the client took more than 5 s to send what was awaited.
            let peerFD = fds[1]
            let peer = FakeNATSConnection(fd: peerFD, defaultTimeout: .seconds(120))
            let script = self.script
            let thread = Thread { [self] in
                script(peer, index)
                // Forget the descriptor and close it under the lock: once closed, its number can
                // be reused by any socket of the process (another test's connection), which a
                // later `stop()` must not shut down.
                state.withLock { s in
                    s.peers.removeAll { $0 == peerFD }
                    peer.close()
                }
            }
            thread.start()
            return SocketStream(TCPSocket(adopting: fds[0], endpoint: "\(host):\(port)"))
        }
    }

    /// Shuts down the peer ends whose scripts still run (their reads end).
    public func stop() {
        state.withLock { s in
            for fd in s.peers { shutdown(fd, Int32(SHUT_RDWR)) }
        }
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
