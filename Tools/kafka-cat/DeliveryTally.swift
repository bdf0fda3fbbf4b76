import Synchronization
import TributaryKafka

/// Counts the delivery reports of `-P`, from the producer's callback thread.
final class DeliveryTally: Sendable {
    private struct Counts {
        var delivered = 0
        var failed = 0
        var firstError: KafkaError?
    }

    private let counts = Mutex(Counts())

    /// Records one delivery report.
    func record(_ result: Result<KafkaRecordMetadata, KafkaError>) {
        counts.withLock { counts in
            switch result {
            case .success: counts.delivered += 1
            case .failure(let error):
                counts.failed += 1
                if counts.firstError == nil { counts.firstError = error }
            }
        }
    }

    /// Delivered and failed records so far, and the first failure.
    var snapshot: (delivered: Int, failed: Int, firstError: KafkaError?) {
        counts.withLock { ($0.delivered, $0.failed, $0.firstError) }
    }
}
