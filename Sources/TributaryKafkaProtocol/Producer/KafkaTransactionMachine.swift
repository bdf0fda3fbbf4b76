/// The transactional producer's state (KIP-98) as a pure state machine: which transaction step
/// comes next, which partitions and groups joined the open transaction, and how each broker
/// answer moves the producer on: success, a retry (after finding the coordinator again), an
/// error that only the abort of this transaction clears, or a fatal one.
///
/// It does no I/O and reads no clock. The driver tells it what the user asked (`initRequested`,
/// `beginRequested`, `sendOffsetsRequested`, `commitRequested`, `abortRequested`), what the
/// record machine needs (`partitionsNeeded`), and what the brokers answered; it performs the
/// returned actions: send a request (to the transaction coordinator, or the group coordinator
/// for TxnOffsetCommit), flush or drop the buffered records, open partitions to the record
/// machine, and complete the user's operation.
///
/// States: `uninitialized` → (InitProducerId) → `ready` → (begin) → `inTransaction` →
/// (commit: flush, EndTxn) → `ready`, or (abort: drop, EndTxn) → `ready`. A failed record or
/// AddPartitionsToTxn/AddOffsetsToTxn/TxnOffsetCommit puts an open transaction in
/// `abortableError`: commit then fails and only abort is allowed. PRODUCER_FENCED,
/// INVALID_PRODUCER_EPOCH and TRANSACTIONAL_ID_AUTHORIZATION_FAILED are `fenced`, anything else
/// that cannot be retried outside an open transaction is `fatal`: the producer must be closed.
public struct KafkaTransactionMachine: Sendable {
    // MARK: - Types

    /// Where the producer is.
    public enum State: Sendable, Hashable {
        /// `initTransactions` has not run (or not finished).
        case uninitialized
        /// Finding the coordinator and asking for the producer id.
        case initializing
        /// A producer id is held; no transaction is open.
        case ready
        /// A transaction is open.
        case inTransaction
        /// Flushing, then EndTxn(commit).
        case committing
        /// Dropping buffered records, then EndTxn(abort).
        case aborting
        /// The open transaction failed; only an abort is allowed. The text says why.
        case abortableError(String)
        /// Another producer with the same transactional id took over, or the id is not
        /// authorized: the producer cannot continue.
        case fenced(KafkaErrorCode)
        /// A non-retriable failure outside an open transaction; the producer cannot continue.
        case fatal(String)
    }

    /// A consumer group's identity for TxnOffsetCommit (KIP-447): the coordinator refuses
    /// offsets from a member that is no longer in the group.
    public struct GroupMetadata: Sendable, Hashable {
        /// The group id.
        public var groupID: String
        /// The generation of the member's assignment, or -1.
        public var generationID: Int32
        /// The member id, or empty.
        public var memberID: String
        /// The static member's instance id, or nil.
        public var groupInstanceID: String?

        /// Creates group metadata.
        public init(groupID: String, generationID: Int32 = -1, memberID: String = "", groupInstanceID: String? = nil) {
            self.groupID = groupID
            self.generationID = generationID
            self.memberID = memberID
            self.groupInstanceID = groupInstanceID
        }
    }

    /// A request for the driver to send.
    public enum Request: Sendable, Hashable {
        /// FindCoordinator with key type 1 (transaction) for the transactional id.
        case findCoordinator
        /// InitProducerId with the transactional id to the transaction coordinator; with
        /// `current`, asks for that id with its epoch bumped (KIP-360).
        case initProducerID(current: Identity?)
        /// AddPartitionsToTxn for these partitions.
        case addPartitions([KafkaTopicPartition])
        /// AddOffsetsToTxn for the group.
        case addOffsets(groupID: String)
        /// TxnOffsetCommit of `offsets` to the group's coordinator.
        case commitOffsets(GroupMetadata, offsets: [KafkaTopicPartition: Int64])
        /// EndTxn: commit or abort.
        case endTransaction(commit: Bool)
    }

    /// A producer id and epoch.
    public struct Identity: Sendable, Hashable, CustomStringConvertible {
        /// The producer id.
        public var id: Int64
        /// The epoch.
        public var epoch: Int16

        /// Creates an identity.
        public init(id: Int64, epoch: Int16) {
            self.id = id
            self.epoch = epoch
        }

        /// `id/epoch`.
        public var description: String { "\(id)/\(epoch)" }
    }

    /// Why an operation or the records of a transaction failed.
    public enum Failure: Error, Sendable, Hashable {
        /// Fenced or not authorized (the code says which): fatal.
        case fenced(KafkaErrorCode)
        /// A non-retriable failure: fatal. The text says what failed.
        case fatal(KafkaErrorCode?, String)
        /// The open transaction cannot commit; abort it. The text says why.
        case abortable(KafkaErrorCode?, String)
        /// The records were dropped because the transaction was aborted.
        case aborted
        /// The call is not allowed in the current state. The text says what to do.
        case invalidState(String)
    }

    /// What the driver does.
    public enum Action: Sendable, Hashable {
        /// Send `request`, after waiting `delay` (zero: now).
        case send(Request, delay: Duration)
        /// Send every buffered record now and wait for all of them, then report ``flushed()``.
        case flush
        /// Fail every buffered record not yet sent with `failure`.
        case failBuffered(Failure)
        /// These partitions are in the transaction: their batches may be sent.
        case partitionsAdded([KafkaTopicPartition])
        /// Stamp batches with this producer id and epoch from now on (sequences start at 0).
        case identityGranted(Identity)
        /// The transaction ended: no partition is in a transaction any more.
        case transactionEnded
        /// The user's operation is done: nil for success, or why it failed.
        case complete(Failure?)
    }

    private enum Operation: Sendable, Hashable {
        case initialize
        case sendOffsets(GroupMetadata, [KafkaTopicPartition: Int64])
        case commit
        case abort
    }

    // MARK: - State

    /// Where the producer is.
    public private(set) var state: State = .uninitialized
    /// The producer id and epoch, once granted.
    public private(set) var identity: Identity?
    /// Partitions in the open transaction.
    public private(set) var partitions: Set<KafkaTopicPartition> = []
    /// Partitions whose AddPartitionsToTxn is out.
    public private(set) var partitionsInFlight: Set<KafkaTopicPartition> = []
    /// Groups whose offsets joined the open transaction.
    public private(set) var groups: Set<String> = []
    /// Whether the transaction coordinator is known.
    public private(set) var coordinatorKnown = false
    /// First retry delay; doubled per attempt up to ``retryBackoffMax``.
    public let retryBackoff: Duration
    /// Longest retry delay.
    public let retryBackoffMax: Duration

    private var operation: Operation?
    /// Requests to send once the coordinator is found again.
    private var waitingForCoordinator: [Request] = []
    private var findingCoordinator = false
    private var attempts: [Request: Int] = [:]
    /// A record of the open transaction failed (the first reason).
    private var recordFailure: Failure?
    /// A sequence number may have been used by a batch that failed: the epoch is bumped after
    /// the abort so the sequences can start again at 0.
    private var needsEpochBump = false
    /// The flush of a commit or abort finished while AddPartitionsToTxn was out: its answer
    /// decides whether the coordinator holds a transaction to end.
    private var flushedWhileAdding = false

    /// Creates a machine in `uninitialized`.
    public init(retryBackoff: Duration = .milliseconds(100), retryBackoffMax: Duration = .seconds(1)) {
        self.retryBackoff = retryBackoff
        self.retryBackoffMax = retryBackoffMax
    }

    /// Whether records may be appended now; otherwise why not.
    public var appendRefusal: Failure? {
        switch state {
        case .inTransaction: nil
        case .abortableError(let reason): .abortable(nil, "the transaction failed and must be aborted (abortTransaction) before producing again: \(reason)")
        case .fenced(let code): .fenced(code)
        case .fatal(let reason): .fatal(nil, reason)
        case .committing, .aborting: .invalidState("the transaction is being committed or aborted; call beginTransaction() for the next records")
        case .uninitialized, .initializing: .invalidState("a transactional producer sends records only inside a transaction; call initTransactions() and then beginTransaction() first")
        case .ready: .invalidState("a transactional producer sends records only inside a transaction; call beginTransaction() first")
        }
    }

    // MARK: - User operations

    /// `initTransactions`: find the coordinator, then ask for the producer id (fencing older
    /// producers of the transactional id and aborting their open transaction).
    public mutating func initRequested() -> [Action] {
        if let refusal = busyOrFailed() { return [.complete(refusal)] }
        guard state == .uninitialized else {
            return [.complete(.invalidState("initTransactions() was already called on this producer"))]
        }
        state = .initializing
        operation = .initialize
        return send(.initProducerID(current: nil))
    }

    /// `beginTransaction`: opens a transaction (no request until the first record or offsets).
    public mutating func beginRequested() -> Failure? {
        if let refusal = busyOrFailed() { return refusal }
        switch state {
        case .ready:
            state = .inTransaction
            partitions = []
            groups = []
            recordFailure = nil
            return nil
        case .uninitialized, .initializing:
            return .invalidState("call initTransactions() before beginTransaction()")
        default:
            return .invalidState("a transaction is already open; commit or abort it first")
        }
    }

    /// `sendOffsetsToTransaction`: AddOffsetsToTxn for the group, then TxnOffsetCommit.
    public mutating func sendOffsetsRequested(_ offsets: [KafkaTopicPartition: Int64], group: GroupMetadata) -> [Action] {
        if let refusal = busyOrFailed() { return [.complete(refusal)] }
        if let refusal = appendRefusal { return [.complete(refusal)] }
        operation = .sendOffsets(group, offsets)
        if groups.contains(group.groupID) { return send(.commitOffsets(group, offsets: offsets)) }
        return send(.addOffsets(groupID: group.groupID))
    }

    /// `commitTransaction`: flush, then EndTxn(commit).
    public mutating func commitRequested() -> [Action] {
        if let refusal = busyOrFailed() { return [.complete(refusal)] }
        switch state {
        case .inTransaction:
            state = .committing
            operation = .commit
            return [.flush]
        case .abortableError(let reason):
            return [.complete(.abortable(nil, "the transaction cannot commit and must be aborted (abortTransaction): \(reason)"))]
        default:
            return [.complete(.invalidState("no transaction is open; call beginTransaction() first"))]
        }
    }

    /// `abortTransaction`: drop what is buffered, wait for what is in flight, then EndTxn(abort).
    public mutating func abortRequested() -> [Action] {
        if let refusal = busyOrFailed() { return [.complete(refusal)] }
        switch state {
        case .inTransaction, .abortableError:
            state = .aborting
            operation = .abort
            return [.failBuffered(.aborted), .flush]
        default:
            return [.complete(.invalidState("no transaction is open; nothing to abort"))]
        }
    }

    // MARK: - Events

    /// The record machine holds batches for partitions not yet in the transaction.
    public mutating func partitionsNeeded(_ needed: [KafkaTopicPartition]) -> [Action] {
        guard state == .inTransaction || state == .committing, partitionsInFlight.isEmpty else { return [] }
        let missing = needed.filter { !partitions.contains($0) }
        guard !missing.isEmpty else { return [] }
        let sorted = Array(Set(missing)).sorted()
        partitionsInFlight = Set(sorted)
        return send(.addPartitions(sorted))
    }

    /// Every record sent (or failed) after a ``Action/flush``.
    public mutating func flushed() -> [Action] {
        if (state == .committing || state == .aborting) && !partitionsInFlight.isEmpty {
            // The coordinator may be adding partitions to the transaction right now: ending it
            // without EndTxn would leave it open there. Wait for the answer.
            flushedWhileAdding = true
            return []
        }
        switch state {
        case .committing:
            if let recordFailure {
                state = .abortableError(Self.reason(recordFailure))
                return finishOperation(.abortable(nil, "the transaction cannot commit because records failed; abort it: \(Self.reason(recordFailure))"))
            }
            // Nothing joined the transaction: there is nothing for the coordinator to end.
            if partitions.isEmpty && groups.isEmpty { return endTransactionDone() }
            return send(.endTransaction(commit: true))
        case .aborting:
            if partitions.isEmpty && groups.isEmpty { return endTransactionDone() }
            return send(.endTransaction(commit: false))
        case .fenced(let code):
            return finishOperation(.fenced(code))
        case .fatal(let reason):
            return finishOperation(.fatal(nil, reason))
        default:
            return []
        }
    }

    /// A record of the open transaction failed with `code` (nil: no broker code). The
    /// transaction cannot commit; fencing codes make the producer fatal.
    public mutating func recordFailed(code: KafkaErrorCode?, detail: String) -> [Action] {
        switch state {
        case .inTransaction, .committing:
            needsEpochBump = true
            if let code, Self.isFencing(code) {
                state = .fenced(code)
                return [.failBuffered(.fenced(code))]
            }
            if recordFailure == nil {
                recordFailure = .abortable(code, detail)
                if state == .inTransaction { state = .abortableError(detail) }
                return [.failBuffered(.abortable(code, detail))]
            }
            return []
        default:
            return []
        }
    }

    /// FindCoordinator answered with the transaction coordinator.
    public mutating func coordinatorFound() -> [Action] {
        coordinatorKnown = true
        findingCoordinator = false
        let waiting = waitingForCoordinator
        waitingForCoordinator = []
        return waiting.map { .send($0, delay: .zero) }
    }

    /// InitProducerId granted `identity`.
    public mutating func producerIDGranted(_ identity: Identity) -> [Action] {
        attempts.removeAll()
        self.identity = identity
        needsEpochBump = false
        switch operation {
        case .initialize:
            state = .ready
            return [.identityGranted(identity)] + finishOperation(nil)
        case .abort:
            return [.identityGranted(identity)] + endTransactionDone()
        default:
            return [.identityGranted(identity)]
        }
    }

    /// The broker answered `request` with `code` (for AddPartitionsToTxn and TxnOffsetCommit:
    /// the first partition error that is not OPERATION_NOT_ATTEMPTED, or no error).
    public mutating func responseReceived(_ request: Request, code: KafkaErrorCode) -> [Action] {
        if !code.isError { return succeeded(request) }
        if request == .findCoordinator {
            return code.isRetriable ? retry(request) : fail(request, .fatal(code, "FindCoordinator for the transactional id failed: \(code.name)"))
        }
        if Self.isFencing(code) { return fail(request, .fenced(code)) }
        if code == .notCoordinator || code == .coordinatorNotAvailable {
            if case .commitOffsets = request { return retry(request) }
            coordinatorKnown = false
            return send(request)
        }
        if code.isRetriable || code == .concurrentTransactions || code == .coordinatorLoadInProgress {
            return retry(request)
        }
        return fail(request, failure(for: request, code: code, detail: "\(Self.name(of: request)) failed: \(code.name) (\(code.rawValue))"))
    }

    /// `request` got no answer. `retriable`: a lost connection or timeout.
    public mutating func requestFailed(_ request: Request, retriable: Bool, detail: String) -> [Action] {
        if retriable {
            if request != .findCoordinator, !isCommitOffsets(request) {
                // The coordinator may have moved with the connection: find it again first.
                coordinatorKnown = false
            }
            return retry(request)
        }
        return fail(request, failure(for: request, code: nil, detail: "\(Self.name(of: request)) failed: \(detail)"))
    }

    // MARK: - Internals

    private func busyOrFailed() -> Failure? {
        switch state {
        case .fenced(let code): return .fenced(code)
        case .fatal(let reason): return .fatal(nil, reason)
        default: break
        }
        if operation != nil { return .invalidState("another transaction operation is still running; wait for it to finish") }
        return nil
    }

    private func isCommitOffsets(_ request: Request) -> Bool {
        if case .commitOffsets = request { return true }
        return false
    }

    /// Sends `request` now, or after FindCoordinator when the coordinator is unknown.
    private mutating func send(_ request: Request, delay: Duration = .zero) -> [Action] {
        if request == .findCoordinator || isCommitOffsets(request) || coordinatorKnown { return [.send(request, delay: delay)] }
        waitingForCoordinator.append(request)
        if findingCoordinator { return [] }
        findingCoordinator = true
        return [.send(.findCoordinator, delay: delay)]
    }

    private mutating func retry(_ request: Request) -> [Action] {
        let attempt = attempts[request, default: 0]
        attempts[request] = attempt + 1
        let raw = retryBackoff * (1 << min(attempt, 16))
        let delay = raw > retryBackoffMax ? retryBackoffMax : raw
        if request == .findCoordinator { return [.send(request, delay: delay)] }
        return send(request, delay: delay)
    }

    private mutating func succeeded(_ request: Request) -> [Action] {
        attempts[request] = nil
        switch request {
        case .findCoordinator:
            return coordinatorFound()
        case .initProducerID:
            // The identity comes with ``producerIDGranted(_:)``.
            return []
        case .addPartitions(let added):
            partitionsInFlight = []
            partitions.formUnion(added)
            return [.partitionsAdded(added)] + resumeFlushed()
        case .addOffsets(let groupID):
            groups.insert(groupID)
            guard case .sendOffsets(let group, let offsets) = operation else { return [] }
            return send(.commitOffsets(group, offsets: offsets))
        case .commitOffsets:
            return finishOperation(nil)
        case .endTransaction(let commit):
            if !commit && needsEpochBump, let identity {
                // A failed batch may have used sequence numbers: a bumped epoch starts them again.
                return send(.initProducerID(current: identity))
            }
            return endTransactionDone()
        }
    }

    /// The flush finished while AddPartitionsToTxn was out, and that request has its answer now.
    private mutating func resumeFlushed() -> [Action] {
        guard flushedWhileAdding else { return [] }
        flushedWhileAdding = false
        return flushed()
    }

    private mutating func endTransactionDone() -> [Action] {
        state = .ready
        partitions = []
        groups = []
        recordFailure = nil
        return [.transactionEnded] + finishOperation(nil)
    }

    private func failure(for request: Request, code: KafkaErrorCode?, detail: String) -> Failure {
        switch request {
        case .addPartitions, .addOffsets, .commitOffsets:
            // The open transaction failed, the producer did not (KIP-98).
            return state == .inTransaction || state == .committing || state == .aborting ? .abortable(code, detail) : .fatal(code, detail)
        case .findCoordinator, .initProducerID, .endTransaction:
            return .fatal(code, detail)
        }
    }

    private mutating func fail(_ request: Request, _ failure: Failure) -> [Action] {
        attempts[request] = nil
        if case .addPartitions = request { partitionsInFlight = [] }
        var actions: [Action] = []
        switch failure {
        case .fenced(let code):
            state = .fenced(code)
            actions.append(.failBuffered(failure))
        case .abortable(_, let detail):
            if state == .inTransaction || state == .committing {
                // A commit in progress keeps its state: ``flushed()`` reports the failure.
                if state == .inTransaction { state = .abortableError(detail) }
                if recordFailure == nil { recordFailure = failure }
                actions.append(.failBuffered(failure))
            }
        case .fatal(_, let detail):
            state = .fatal(detail)
            actions.append(.failBuffered(failure))
        case .aborted, .invalidState:
            break
        }
        // A partition addition belongs to no operation; the commit waiting on its records sees
        // them fail and reports the abortable state from ``flushed()``.
        if case .addPartitions = request { return actions + resumeFlushed() }
        return actions + finishOperation(failure)
    }

    private mutating func finishOperation(_ failure: Failure?) -> [Action] {
        guard operation != nil else { return [] }
        operation = nil
        return [.complete(failure)]
    }

    static func isFencing(_ code: KafkaErrorCode) -> Bool {
        code == .producerFenced || code == .invalidProducerEpoch || code == .transactionalIDAuthorizationFailed
    }

    private static func reason(_ failure: Failure) -> String {
        switch failure {
        case .abortable(_, let detail), .fatal(_, let detail), .invalidState(let detail): detail
        case .fenced(let code): code.name
        case .aborted: "aborted"
        }
    }

    private static func name(of request: Request) -> String {
        switch request {
        case .findCoordinator: "FindCoordinator"
        case .initProducerID: "InitProducerId"
        case .addPartitions: "AddPartitionsToTxn"
        case .addOffsets: "AddOffsetsToTxn"
        case .commitOffsets: "TxnOffsetCommit"
        case .endTransaction: "EndTxn"
        }
    }
}
