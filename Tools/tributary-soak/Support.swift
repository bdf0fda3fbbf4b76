#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SoakCore
import Synchronization
import TributaryTestSupport

/// One ledger behind a lock, shared by the traffic tasks of a scenario.
final class LedgerBox: Sendable {
    private let ledger: Mutex<SoakLedger>

    init(_ scenario: SoakScenario, _ traffic: String, _ delivery: SoakDelivery) {
        ledger = Mutex(SoakLedger(scenario: scenario.rawValue, traffic: traffic, delivery: delivery))
    }

    func sent() -> Int { ledger.withLock { $0.recordSent() } }
    func acknowledged(_ id: Int) { ledger.withLock { $0.recordAcknowledged(id) } }
    func failed(_ id: Int) { ledger.withLock { $0.recordFailed(id) } }
    func received(_ id: Int) { ledger.withLock { $0.recordReceived(id) } }
    func received(payload: [UInt8]) { received(Self.id(in: payload)) }
    func dropsReported(_ count: Int) { ledger.withLock { $0.recordDropsReported(count) } }
    func brokerWiped() { ledger.withLock { $0.recordBrokerWipe() } }
    var outstanding: Int { ledger.withLock { $0.outstanding } }
    var summary: SoakRow { ledger.withLock { $0.summary } }

    /// The payload of message `id`: its decimal digits, padded so records are not trivially small.
    static func payload(_ id: Int) -> [UInt8] {
        Array(String(id).utf8) + Array(repeating: UInt8(ascii: " "), count: 64)
    }

    /// The id a payload carries; -1 when it carries none (counted as unknown).
    static func id(in payload: [UInt8]) -> Int {
        var value = 0
        var digits = 0
        for byte in payload {
            guard byte >= 0x30, byte <= 0x39 else { break }
            value = value &* 10 &+ Int(byte - 0x30)
            digits += 1
        }
        return digits == 0 ? -1 : value
    }
}

/// What every scenario runner gets: the run's clock, where traffic ends, and the drain limit.
struct SoakRun: Sendable {
    let start: ContinuousClock.Instant
    let duration: Duration
    let drainLimit: Duration

    var trafficEnd: ContinuousClock.Instant { start + duration }
    var trafficRunning: Bool { ContinuousClock.now < trafficEnd }

    func sleep(until offset: Duration) async {
        try? await Task.sleep(until: start + offset, clock: .continuous)
    }

    /// After traffic ends: waits until no acknowledged message is outstanding in `ledgers`, or
    /// the drain limit passes.
    func drain(_ ledgers: [LedgerBox]) async {
        let deadline = trafficEnd + drainLimit
        while ContinuousClock.now < deadline, ledgers.contains(where: { $0.outstanding > 0 }) {
            try? await Task.sleep(for: .milliseconds(250))
        }
    }
}

/// Runs blocking work (a broker stop that waits for the process to exit) on a thread of its
/// own, never on the Swift concurrency pool, and resumes the caller when it is done.
func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        let thread = Thread {
            continuation.resume(returning: body())
        }
        thread.name = "soak-blocking"
        thread.start()
    }
}

/// The result of `body`, or nil when it did not finish within `limit` (the task is then
/// cancelled and left to finish on its own).
func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async -> T) async -> T? {
    let slot = ContinuationSlot<T>()
    return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
        slot.put(continuation)
        let work = Task {
            let value = await body()
            slot.take()?.resume(returning: value)
        }
        Task {
            try? await Task.sleep(for: limit)
            if let waiting = slot.take() {
                work.cancel()
                waiting.resume(returning: nil)
            }
        }
    }
}

/// Holds a continuation until the first of two parties takes it.
final class ContinuationSlot<T: Sendable>: Sendable {
    private let slot = Mutex<CheckedContinuation<T?, Never>?>(nil)
    func put(_ continuation: CheckedContinuation<T?, Never>) { slot.withLock { $0 = continuation } }
    func take() -> CheckedContinuation<T?, Never>? { slot.withLock { $0.take() } }
}

/// A tansu broker (memory storage) on a fixed port that can be killed and started again on
/// that port; it may advertise another port (a fault proxy in front of it).
final class TansuBroker: Sendable {
    let port: Int
    let advertisedPort: Int
    private let binary: String
    private let logPath: String
    private let process = Mutex<Subprocess?>(nil)

    init(advertisedPort: Int? = nil) throws {
        binary = try BrokerEnvironment.recorded("TANSU_BIN")
        port = try freePort()
        self.advertisedPort = advertisedPort ?? port
        logPath = NSTemporaryDirectory() + "tributary-soak-tansu-\(port).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    }

    var bootstrap: String { "127.0.0.1:\(advertisedPort)" }

    /// Launches tansu and waits until its port accepts connections.
    func start(timeout: Duration = .seconds(20)) async throws {
        let process = Subprocess()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["broker", "--listener-url", "tcp://127.0.0.1:\(port)",
                             "--advertised-listener-url", "tcp://127.0.0.1:\(advertisedPort)",
                             "--storage-engine", "memory://tansu/"]
        let log = FileHandle(forWritingAtPath: logPath)
        _ = try? log?.seekToEnd()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process.withLock { $0 = process }
        let deadline = ContinuousClock.now + timeout
        while await !offPool({ [port] in SoakSocket.canConnect(port: port) }) {
            guard process.isRunning, ContinuousClock.now < deadline else {
                kill()
                throw BrokerEnvironmentError("tansu did not start on 127.0.0.1:\(port); log \(logPath)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// SIGKILL by PID, then waits for the exit (blocking: call it through `offPool`).
    func kill() {
        guard let process = self.process.withLock({ $0.take() }), process.isRunning else { return }
        process.signal(SIGKILL)
        process.waitUntilExit()
    }

    deinit { kill() }
}

/// Loopback socket helpers of the tool's own.
enum SoakSocket {
    static func loopbackAddress(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: in_addr_t(0x7F00_0001).bigEndian)
        return address
    }

    /// Whether 127.0.0.1:`port` accepts a TCP connection (a blocking connect to loopback,
    /// answered at once; callers run it through `offPool`).
    static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopbackAddress(port: port)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }
}

/// Runs `body`, then `cleanup` (stopping brokers blocks until they exit) through `offPool`,
/// whether `body` returned or threw.
func withCleanup<T: Sendable>(_ cleanup: @escaping @Sendable () -> Void, _ body: () async throws -> T) async throws -> T {
    do {
        let value = try await body()
        await offPool(cleanup)
        return value
    } catch {
        await offPool(cleanup)
        throw error
    }
}
