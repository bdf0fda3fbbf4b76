#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization

/// Ctrl-C (SIGINT) and SIGTERM handling for the tools.
///
/// The first signal calls the handler (which cancels the tool's work so it can flush and close)
/// and exits with status 0 after `gracePeriod` if the tool has not finished by then; a second
/// signal exits with status 0 at once.
public enum InterruptSignals {
    /// How long a tool may take to finish after the first signal: 2 s.
    public static let gracePeriod: Duration = .seconds(2)

    private static let queue = DispatchQueue(label: "tributary.tools.signals")
    /// Installed sources (kept alive for the life of the process) and the number of signals seen.
    private static let state = Mutex<(sources: [any DispatchSourceSignal], received: Int)>(([], 0))

    /// Installs handlers for SIGINT and SIGTERM. Call once per process.
    public static func install(_ onInterrupt: @escaping @Sendable () -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                let received = state.withLock { s -> Int in
                    s.received += 1
                    return s.received
                }
                guard received == 1 else { exit(0) }
                onInterrupt()
                let nanos = gracePeriod.components.seconds * 1_000_000_000
                queue.asyncAfter(deadline: .now() + .nanoseconds(Int(nanos))) { exit(0) }
            }
            source.resume()
            state.withLock { $0.sources.append(source) }
        }
    }
}
