import TributaryWire

/// What a test's producer callbacks reported, by record index: acknowledged indices and failures
/// (as "index: error" lines). Thread-safe; the callbacks run on the producer's threads.
public final class DeliveryLedger: Sendable {
    private let state = Locked<(acked: Set<Int>, failures: [String])>(([], []))

    public init() {}

    /// Records the outcome of record `index`.
    public func record<Value, Failure: Error>(_ index: Int, _ result: Result<Value, Failure>) {
        state.withLock { state in
            switch result {
            case .success: state.acked.insert(index)
            case .failure(let error): state.failures.append("\(index): \(error)")
            }
        }
    }

    /// The outcomes so far.
    public var snapshot: (acked: Set<Int>, failures: [String]) { state.withLock { $0 } }
}
