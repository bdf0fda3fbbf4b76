import Foundation
import TributaryNATS

/// A subject unique to one test run, so parallel tests never see each other's messages.
public func uniqueSubject(_ prefix: String) -> String {
    "\(prefix).\(UInt32.random(in: 0...UInt32.max))\(UInt32.random(in: 0...UInt32.max))"
}

/// A wait that ran out of time.
public struct TimedOut: Error, CustomStringConvertible {
    /// What was awaited.
    public let what: String
    public init(what: String) { self.what = what }
    public var description: String { "timed out waiting for \(what)" }
}

/// Collects `count` messages from `subscription`, failing after `timeout` (times `sanitizerSlowdown`).
public func collect(_ subscription: NATSSubscription, count: Int, timeout: Duration = .seconds(10)) async throws -> [NATSMessage] {
    try await withThrowingTaskGroup(of: [NATSMessage]?.self) { group in
        group.addTask {
            var messages: [NATSMessage] = []
            for try await message in subscription {
                messages.append(message)
                if messages.count == count { break }
            }
            return messages
        }
        group.addTask {
            try await Task.sleep(for: timeout * sanitizerSlowdown)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        guard let first else { throw TimedOut(what: "\(count) messages on '\(subscription.subject)'") }
        return first
    }
}

/// How much longer waits for an outcome may take in this build: 5 under ThreadSanitizer (built
/// with `-DTRIBUTARY_TSAN` by `Tools/tsan.sh`), whose instrumentation slows the client's threads
/// several times over; 1 otherwise. A timeout still fails the test, only later.
public let sanitizerSlowdown: Int = {
    #if TRIBUTARY_TSAN
    return 5
    #else
    return 1
    #endif
}()

/// Waits until `condition` holds, polling, or throws after `timeout` (times `sanitizerSlowdown`).
public func eventually(_ what: String, timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout * sanitizerSlowdown
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw TimedOut(what: what)
}
