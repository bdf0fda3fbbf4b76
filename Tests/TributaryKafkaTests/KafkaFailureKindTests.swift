import Testing
import TributaryKafka
import TributaryNATS

@Suite("Handler failures are classified as transient, poison or cancellation")
struct KafkaFailureKindTests {
    struct Rejected: Error {}
    struct DownstreamBusy: KafkaTransientFailure {}
    struct MaybeTransient: KafkaTransientFailure { var isTransientFailure: Bool }

    @Test func cancellationIsNeverAFailureOfTheRecord() {
        #expect(KafkaFailureKind.classify(CancellationError()) == .cancellation)
        #expect(KafkaFailureKind.classify(KafkaError(.cancelled, "the task was cancelled")) == .cancellation)
        #expect(KafkaFailureKind.classify(KafkaError(.invalidArgument, "wrapped", underlying: CancellationError())) == .cancellation)
        #expect(KafkaFailureKind.classify(NATSError(.cancelled, "the task was cancelled")) == .cancellation)
    }

    @Test func kafkaErrorsAreTransientWhenRetriable() {
        #expect(KafkaFailureKind.classify(KafkaError(.timedOut, "no answer")) == .transient)
        #expect(KafkaFailureKind.classify(KafkaError(.connectionLost, "reset")) == .transient)
        #expect(KafkaFailureKind.classify(KafkaError(.connectionFailed, "refused")) == .transient)
        #expect(KafkaFailureKind.classify(KafkaError.broker(.notLeaderOrFollower)) == .transient)
        #expect(KafkaFailureKind.classify(KafkaError.broker(.topicAuthorizationFailed)) == .poison)
        #expect(KafkaFailureKind.classify(KafkaError(.invalidArgument, "record too large")) == .poison)
    }

    @Test func natsErrorsAreClassifiedByTheirPublicCodes() {
        // A NATS flush that timed out during an outage, or a lost connection, is the world
        // failing, not the record.
        for code: NATSError.Code in [.timeout, .disconnected, .connectionFailed, .connectionClosed, .staleConnection,
                                     .noResponders, .reconnectBufferExceeded, .outboundBufferFull] {
            #expect(KafkaFailureKind.classify(NATSError(code, "test")) == .transient, "\(code)")
        }
        for code: NATSError.Code in [.permissionViolation, .maxPayloadExceeded, .invalidSubject, .invalidHeaders] {
            #expect(KafkaFailureKind.classify(NATSError(code, "test")) == .poison, "\(code)")
        }
    }

    @Test func errorsCanMarkThemselvesTransient() {
        #expect(KafkaFailureKind.classify(DownstreamBusy()) == .transient)
        #expect(KafkaFailureKind.classify(MaybeTransient(isTransientFailure: false)) == .poison)
        #expect(KafkaFailureKind.classify(Rejected()) == .poison)
    }

    @Test func aCustomClassifierReplacesTheDefault() {
        let policy = KafkaRetryPolicy { error in
            error is Rejected ? .transient : KafkaFailureKind.classify(error)
        }
        #expect(policy.classify(Rejected()) == .transient)
        #expect(policy.classify(CancellationError()) == .cancellation)
    }
}
