import TributaryKafkaProtocol
import TributaryWire
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Three (or more) Kafka brokers made from one: a listener per node id on 127.0.0.1, each
/// forwarding to the one real broker at `upstreamPort`, with ``KafkaClusterViewRouter`` rewriting
/// Metadata and FindCoordinator so that partition `p` leads on `nodes[p % nodes.count]`, and
/// answering NOT_LEADER_OR_FOLLOWER for partitions a node does not lead and NOT_COORDINATOR for
/// group requests at a node that is not the coordinator. ``move(topic:partition:to:)``
/// moves a leader; ``takeDown(_:)`` closes a node's listener and connections and drops it from
/// metadata, ``bringUp(_:)`` brings it back on the same port.
///
/// Each client connection has one thread that polls the client and the broker sockets; responses
/// go back in request order (locally built answers wait behind forwarded requests).
public final class KafkaClusterView: Sendable {
    /// The nodes, ascending, and their ports.
    public let nodes: [Int32]
    private let upstreamPort: Int

    private struct Connection {
        var node: Int32
        var client: Int32
        var upstream: Int32
    }
    private struct State {
        var map: KafkaClusterViewMap
        var listeners: [Int32: Int32] = [:]
        var connections: [Int: Connection] = [:]
        var nextConnection = 0
        var stopped = false
        /// Router failures (unreadable frames): a test expects none.
        var failures: [String] = []
        var notLeaderAnswers = 0
        var notCoordinatorAnswers = 0
        var accepted: [Int32: Int] = [:]
    }
    private let state: Locked<State>

    /// Starts a listener for each of `nodes` on a free port, forwarding to 127.0.0.1:`upstreamPort`.
    ///
    /// - Throws: `BrokerEnvironmentError` when a listener cannot start.
    public init(nodes: [Int32] = [1, 2, 3], upstreamPort: Int) throws {
        self.nodes = nodes.sorted()
        self.upstreamPort = upstreamPort
        var ports: [Int32: Int] = [:]
        for node in nodes { ports[node] = try freePort() }
        state = Locked(State(map: KafkaClusterViewMap(ports: ports)))
        for node in self.nodes { try startListener(node) }
    }

    /// `host:port` of every node, for `KAFKA_BROKERS`-style bootstrap lists.
    public var bootstrapServers: String {
        let map = self.map
        return nodes.compactMap { map.ports[$0].map { "127.0.0.1:\($0)" } }.joined(separator: ",")
    }

    /// A copy of the current leadership map.
    public var map: KafkaClusterViewMap { state.withLock { $0.map } }

    /// The node that leads `topic`/`partition` now.
    public func leader(topic: String, partition: Int32) -> Int32 {
        state.withLock { $0.map.leader(of: .init(topic: topic, partition: partition)) }
    }

    /// Requests or responses the router could not read (each closed its connection).
    public var failures: [String] { state.withLock { $0.failures } }
    /// How many requests got at least one NOT_LEADER_OR_FOLLOWER partition from the view.
    public var notLeaderAnswers: Int { state.withLock { $0.notLeaderAnswers } }
    /// How many group requests the view answered NOT_COORDINATOR.
    public var notCoordinatorAnswers: Int { state.withLock { $0.notCoordinatorAnswers } }
    /// Connections accepted per node.
    public var accepted: [Int32: Int] { state.withLock { $0.accepted } }

    /// Moves the leadership of `topic`/`partition` to `node`; the old leader answers
    /// NOT_LEADER_OR_FOLLOWER from now on.
    public func move(topic: String, partition: Int32, to node: Int32) {
        state.withLock { $0.map.move(.init(topic: topic, partition: partition), to: node) }
    }

    /// Makes `node` the group coordinator FindCoordinator names (when it is up).
    public func moveCoordinator(to node: Int32) {
        state.withLock { $0.map.coordinator = node }
    }

    /// Takes `node` down: its listener closes (connections are refused), its open connections are
    /// cut, and it leaves metadata; the partitions it led fail over to the next live node.
    public func takeDown(_ node: Int32) {
        let listener = state.withLock { state -> Int32? in
            state.map.setDown(node, true)
            // Cut under the lock: a pump closes its descriptors only under it, after forgetting
            // them, so no number shut down here can already belong to another socket.
            for connection in state.connections.values where connection.node == node {
                shutdown(connection.client, Int32(SHUT_RDWR))
                shutdown(connection.upstream, Int32(SHUT_RDWR))
            }
            return state.listeners.removeValue(forKey: node)
        }
        if let listener {
            // Closed here, not by its accept loop, so that the port is free for bringUp at once.
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
    }

    /// Brings `node` back on its port.
    ///
    /// - Throws: `BrokerEnvironmentError` when the port cannot be bound again.
    public func bringUp(_ node: Int32) throws {
        try startListener(node)
        state.withLock { $0.map.setDown(node, false) }
    }

    /// Stops every listener and connection. Idempotent.
    public func stop() {
        let listeners = state.withLock { state -> [Int32] in
            state.stopped = true
            for connection in state.connections.values {
                shutdown(connection.client, Int32(SHUT_RDWR))
                shutdown(connection.upstream, Int32(SHUT_RDWR))
            }
            defer { state.listeners.removeAll() }
            return Array(state.listeners.values)
        }
        for listener in listeners {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
    }

    deinit { stop() }

    // MARK: - Sockets

    private func startListener(_ node: Int32) throws {
        guard let port = state.withLock({ $0.map.ports[node] }) else { throw BrokerEnvironmentError("the view has no node \(node)") }
        let fd = try BrokerSocket.listen(port: port, backlog: 128, owner: "cluster view node \(node)")
        state.withLock { $0.listeners[node] = fd }
        let thread = Thread { [self] in acceptLoop(node: node, listener: fd) }
        thread.name = "cluster-view-accept-\(node)"
        thread.start()
    }

    /// Accepts until `listener` is no longer the node's (whoever removes it closes it).
    private func acceptLoop(node: Int32, listener: Int32) {
        let isCurrent = { [self] in state.withLock { $0.stopped ? nil : $0.listeners[node] } == listener }
        BrokerSocket.acceptPairs(listener: listener, upstreamPort: upstreamPort, keepGoing: isCurrent) { client, upstream in
            let id = state.withLock { state -> Int in
                state.nextConnection += 1
                state.accepted[node, default: 0] += 1
                state.connections[state.nextConnection] = Connection(node: node, client: client, upstream: upstream)
                return state.nextConnection
            }
            let thread = Thread { [self] in pump(id: id, node: node, client: client, upstream: upstream) }
            thread.name = "cluster-view-\(node)"
            thread.start()
        }
    }

    /// A frame split off the front of `buffer` (without its size prefix), or nil when incomplete.
    private static func nextFrame(_ buffer: inout [UInt8], start: inout Int) -> [UInt8]? {
        guard buffer.count - start >= 4 else { return nil }
        let size = Int(buffer[start]) << 24 | Int(buffer[start + 1]) << 16 | Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
        guard buffer.count - start - 4 >= size else { return nil }
        let frame = Array(buffer[(start + 4)..<(start + 4 + size)])
        start += 4 + size
        if start > 1 << 20 || start == buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        return frame
    }

    private static func writeFrame(_ frame: [UInt8], to fd: Int32) -> Bool {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(frame.count + 4)
        let size = UInt32(frame.count)
        bytes += [UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)]
        bytes += frame
        var written = 0
        while written < bytes.count {
            let w = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + written, bytes.count - written, Int32(MSG_NOSIGNAL)) }
            if w <= 0 { return false }
            written += w
        }
        return true
    }

    private enum Queued {
        case upstream(KafkaClusterViewRouter.Pending)
        case local([UInt8])
    }

    private func pump(id: Int, node: Int32, client: Int32, upstream: Int32) {
        defer {
            state.withLock { state in
                _ = state.connections.removeValue(forKey: id)
                close(client)
                close(upstream)
            }
        }
        var fromClient: [UInt8] = []
        var clientStart = 0
        var fromUpstream: [UInt8] = []
        var upstreamStart = 0
        var queue: [Queued] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        func fail(_ why: String) {
            state.withLock { $0.failures.append("node \(node): \(why)") }
        }
        /// Writes the local answers at the head of the queue.
        func flushLocal() -> Bool {
            while case .local(let frame)? = queue.first {
                queue.removeFirst()
                if !Self.writeFrame(frame, to: client) { return false }
            }
            return true
        }
        while true {
            var fds = (pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: upstream, events: Int16(POLLIN), revents: 0))
            let ready = withUnsafeMutableBytes(of: &fds) { raw in
                raw.withMemoryRebound(to: pollfd.self) { poll($0.baseAddress, 2, 200) }
            }
            let (stopped, isDown) = state.withLock { ($0.stopped, $0.map.down.contains(node)) }
            if stopped || isDown { return }
            if ready < 0 && errno != EINTR { return }
            guard ready > 0 else { continue }
            if fds.0.revents != 0 {
                let n = chunk.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
                if n <= 0 { return }
                fromClient += chunk[0..<n]
                while let frame = Self.nextFrame(&fromClient, start: &clientStart) {
                    let map = state.withLock { $0.map }
                    let decision: KafkaClusterViewRouter.Decision
                    do {
                        decision = try KafkaClusterViewRouter.route(request: frame, at: node, map: map)
                    } catch {
                        fail(error.description)
                        return
                    }
                    switch decision {
                    case .forward(let forwarded, let pending):
                        if !pending.notLeader.isEmpty { state.withLock { $0.notLeaderAnswers += 1 } }
                        queue.append(.upstream(pending))
                        if !Self.writeFrame(forwarded, to: upstream) { return }
                    case .forwardWithoutResponse(let forwarded):
                        if !Self.writeFrame(forwarded, to: upstream) { return }
                    case .answer(let answer):
                        let apiKey = Int16(bitPattern: UInt16(frame[0]) << 8 | UInt16(frame[1]))
                        let isGroupRequest = [KafkaAPIKey.joinGroup, .syncGroup, .heartbeat, .leaveGroup, .offsetCommit].contains { $0.rawValue == apiKey }
                        state.withLock { if isGroupRequest { $0.notCoordinatorAnswers += 1 } else { $0.notLeaderAnswers += 1 } }
                        queue.append(.local(answer))
                        if !flushLocal() { return }
                    }
                }
            }
            if fds.1.revents != 0 {
                let n = chunk.withUnsafeMutableBytes { read(upstream, $0.baseAddress, $0.count) }
                if n <= 0 { return }
                fromUpstream += chunk[0..<n]
                while let frame = Self.nextFrame(&fromUpstream, start: &upstreamStart) {
                    guard case .upstream(let pending)? = queue.first else {
                        fail("the broker answered a request the view did not forward")
                        return
                    }
                    queue.removeFirst()
                    let rewritten: [UInt8]
                    do {
                        rewritten = try state.withLock { state throws(KafkaClusterViewRouter.RouterError) -> [UInt8] in
                            try KafkaClusterViewRouter.rewrite(response: frame, for: pending, at: node, map: &state.map)
                        }
                    } catch {
                        fail(error.description)
                        return
                    }
                    if !Self.writeFrame(rewritten, to: client) || !flushLocal() { return }
                }
            }
        }
    }
}
