import TributaryWire
import Synchronization

/// A route's counters since the bridge started.
public struct BridgeRouteStatistics: Sendable, Hashable, CustomStringConvertible {
    /// The route's name.
    public var route: String
    /// Messages or records read from the source.
    public var received = 0
    /// Confirmed by the destination (Kafka acknowledged, the NATS server confirmed, JetStream acked).
    public var forwarded = 0
    /// Given up on without a dead-letter destination (counted, reported as events).
    public var failed = 0
    /// Sent to the route's dead-letter destination.
    public var deadLettered = 0
    /// Skipped because this bridge wrote them (the loop guard).
    public var skipped = 0
    /// Core NATS messages the subscription dropped because the bridge could not keep up
    /// (slow consumer; core NATS has no redelivery).
    public var dropped = 0
    /// Forwarded but not yet confirmed.
    public var inFlight = 0

    /// Zero counters for `route`.
    public init(route: String) {
        self.route = route
    }

    init(route: String, received: Int, forwarded: Int, failed: Int, deadLettered: Int, skipped: Int, dropped: Int, inFlight: Int) {
        self.route = route
        self.received = received
        self.forwarded = forwarded
        self.failed = failed
        self.deadLettered = deadLettered
        self.skipped = skipped
        self.dropped = dropped
        self.inFlight = inFlight
    }

    public var description: String {
        "\(route): received \(received), forwarded \(forwarded), failed \(failed), dead-lettered \(deadLettered), skipped \(skipped), dropped \(dropped), in flight \(inFlight)"
    }
}

/// What a bridge reports while it runs.
public enum BridgeEvent: Sendable, CustomStringConvertible {
    /// A route is reading: its NATS subscription is registered with the server, its JetStream
    /// pull has started, or its Kafka group member is joining.
    case routeStarted(route: String)
    /// A message was given up on (counted in `failed`), with why.
    case forwardFailed(route: String, error: String)
    /// A message went to the dead-letter destination, with why.
    case deadLettered(route: String, destination: String, reason: String)
    /// A route stopped, with the error that stopped it, if any.
    case routeStopped(route: String, error: BridgeError?)

    public var description: String {
        switch self {
        case .routeStarted(let route): return "route '\(route)' started"
        case .forwardFailed(let route, let error): return "route '\(route)': forward failed: \(error)"
        case .deadLettered(let route, let destination, let reason): return "route '\(route)': dead-lettered to \(destination): \(reason)"
        case .routeStopped(let route, let error): return "route '\(route)' stopped" + (error.map { ": \($0)" } ?? "")
        }
    }
}

/// One route's live counters.
final class RouteCounters: Sendable {
    let route: String
    let received = Atomic<Int>(0)
    let forwarded = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let deadLettered = Atomic<Int>(0)
    let skipped = Atomic<Int>(0)
    let dropped = Atomic<Int>(0)
    let inFlight = Atomic<Int>(0)

    init(route: String) { self.route = route }

    static func add(_ counter: borrowing Atomic<Int>, _ amount: Int = 1) {
        counter.wrappingAdd(amount, ordering: .relaxed)
    }

    var snapshot: BridgeRouteStatistics {
        BridgeRouteStatistics(route: route, received: received.load(ordering: .relaxed), forwarded: forwarded.load(ordering: .relaxed),
                              failed: failed.load(ordering: .relaxed), deadLettered: deadLettered.load(ordering: .relaxed),
                              skipped: skipped.load(ordering: .relaxed), dropped: dropped.load(ordering: .relaxed),
                              inFlight: inFlight.load(ordering: .relaxed))
    }
}

/// At most `limit` forwards in flight: `acquire` waits for a slot, `release` frees one.
final class InFlightLimiter: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
        var head = 0
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let limit: Int
    private let state: Locked<State>

    init(limit: Int) {
        self.limit = limit
        state = Locked(State(available: limit))
    }

    func acquire() async {
        let ready = state.withLock { s -> Bool in
            if s.available > 0 && s.head == s.waiters.count {
                s.available -= 1
                return true
            }
            return false
        }
        if ready { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.available > 0 && s.head == s.waiters.count {
                    s.available -= 1
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func release() {
        let (next, idle) = state.withLock { s -> (CheckedContinuation<Void, Never>?, [CheckedContinuation<Void, Never>]) in
            if s.head < s.waiters.count {
                let next = s.waiters[s.head]
                s.head += 1
                if s.head == s.waiters.count {
                    s.waiters.removeAll(keepingCapacity: true)
                    s.head = 0
                }
                return (next, [])
            }
            s.available += 1
            guard s.available == limit else { return (nil, []) }
            defer { s.idleWaiters = [] }
            return (nil, s.idleWaiters)
        }
        next?.resume()
        for waiter in idle { waiter.resume() }
    }

    /// Waits until nothing is in flight.
    func waitUntilIdle() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { s -> Bool in
                if s.available == limit { return true }
                s.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }
}
