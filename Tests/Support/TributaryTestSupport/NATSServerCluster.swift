import Foundation

/// A cluster of real `nats-server` processes (three by default) on 127.0.0.1, for
/// conformance tests of cluster discovery, reconnect and failover.
///
/// Node `i` listens for clients on `servers[i].port`, for routes on `clusterPorts[i]`, and
/// has monitoring on `servers[i].monitorPort`. Each node is started with
/// `--cluster nats://127.0.0.1:CPORT --routes <the other nodes> --cluster_name tributary-test
/// --server_name tributary-test-<i>`. `startAll()` returns once every node reports a route
/// to every other running node.
///
/// Concurrency: like `NATSServerProcess`; `stop(_:)` and `stopAll()` block until the
/// processes have exited. Nodes still running at deinit are killed by their own deinit.
public final class NATSClusterProcess: Sendable {
    /// The cluster name every node is started with.
    public static let clusterName = "tributary-test"

    /// The nodes, in order.
    public let servers: [NATSServerProcess]
    /// Route (cluster) port of each node.
    public let clusterPorts: [Int]

    /// Client URL of each node, `nats://127.0.0.1:PORT`.
    public var urls: [String] { servers.map(\.url) }

    /// All client URLs, comma-separated (a server list for a client).
    public var url: String { urls.joined(separator: ",") }

    /// Prepares `size` nodes on free ports; nothing runs until `startAll()`.
    ///
    /// - Parameter extra: arguments appended to every node's command line.
    /// - Throws: `BrokerEnvironmentError` when nats-server is not installed.
    public init(size: Int = 3, arguments extra: [String] = []) throws {
        precondition(size >= 2, "a cluster needs at least two nodes")
        let clusterPorts = try (0..<size).map { _ in try freePort() }
        self.clusterPorts = clusterPorts
        self.servers = try (0..<size).map { index in
            let routes = clusterPorts.indices
                .filter { $0 != index }
                .map { "nats://127.0.0.1:\(clusterPorts[$0])" }
                .joined(separator: ",")
            return try NATSServerProcess(
                arguments: [
                    "--cluster", "nats://127.0.0.1:\(clusterPorts[index])",
                    "--routes", routes,
                    "--cluster_name", Self.clusterName,
                ] + extra,
                monitoring: true,
                serverName: "\(Self.clusterName)-\(index)"
            )
        }
    }

    /// Starts every node, waits until each accepts clients, then until the routes are up
    /// (`waitForRoutes(timeout:)`).
    ///
    /// - Throws: `BrokerEnvironmentError` with the logs of every node; the nodes are then
    ///   stopped.
    public func startAll(timeout: Duration = .seconds(20)) async throws {
        do {
            for server in servers {
                try await server.start(timeout: timeout)
            }
            try await waitForRoutes(timeout: timeout)
        } catch {
            stopAll()
            throw error
        }
    }

    /// Waits until every running node has a route to every other running node, judged by
    /// distinct `remote_id`s in its `/routez` (nats-server 2.10+ pools several route
    /// connections per peer, so `num_routes` is larger than the peer count).
    ///
    /// - Throws: `BrokerEnvironmentError` with the route counts and every node's log when
    ///   that does not happen within `timeout`.
    public func waitForRoutes(timeout: Duration = .seconds(20)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let running = servers.filter(\.isRunning)
            let peers = running.map { (try? Self.routedPeers(of: $0)) ?? [] }
            let expected = Set(running.compactMap { Self.serverID(of: $0) })
            let complete = running.count == expected.count && zip(running, peers).allSatisfy { server, peers in
                guard let id = Self.serverID(of: server) else { return false }
                return peers == expected.subtracting([id])
            }
            if complete { return }
            if clock.now >= deadline {
                let counts = zip(running, peers).map { "\($0.0.url): \($0.1.count) peer(s)" }
                throw BrokerEnvironmentError(
                    "cluster routes not up within \(timeout): expected \(max(running.count - 1, 0)) peer(s) per node; \(counts.joined(separator: ", "))\n\(logs())"
                )
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Stops node `index` (SIGTERM, then SIGKILL after the grace period).
    public func stop(_ index: Int) {
        servers[index].stop()
    }

    /// Kills node `index` at once (SIGKILL).
    public func kill(_ index: Int) {
        servers[index].kill()
    }

    /// Restarts node `index` on its ports and waits until the routes are up again.
    public func restart(_ index: Int, timeout: Duration = .seconds(20)) async throws {
        try await servers[index].restart(timeout: timeout)
        try await waitForRoutes(timeout: timeout)
    }

    /// Stops every node.
    public func stopAll() {
        for server in servers {
            server.stop()
        }
    }

    /// Every node's log, each under a header naming the node.
    public func logs() -> String {
        servers.enumerated().map { index, server in
            "---- node \(index) (\(server.url), \(server.logPath)) ----\n\(server.logs())"
        }.joined(separator: "\n")
    }

    // MARK: - Private

    private static func serverID(of server: NATSServerProcess) -> String? {
        guard let data = try? server.monitor("/varz"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return nil }
        return object["server_id"] as? String
    }

    private static func routedPeers(of server: NATSServerProcess) throws -> Set<String> {
        let data = try server.monitor("/routez")
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw BrokerEnvironmentError("/routez of \(server.url) is not a JSON object")
        }
        let routes = object["routes"] as? [[String: Any]] ?? []
        return Set(routes.compactMap { $0["remote_id"] as? String }.filter { !$0.isEmpty })
    }
}
