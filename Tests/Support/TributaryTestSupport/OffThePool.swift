import Foundation

/// Runs `body` (a child process to wait for, a key to generate) on a thread of its own and
/// awaits its result, so blocking work never holds one of the few threads of Swift's
/// cooperative pool: with two cores the pool has two, and a test blocking one of them slows
/// every other test of the process.
public func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let thread = Thread {
            do {
                continuation.resume(returning: try body())
            } catch {
                continuation.resume(throwing: error)
            }
        }
        thread.start()
    }
}
