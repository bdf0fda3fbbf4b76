#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TributaryKafkaProtocol

/// Transactions (KIP-98), for a producer with ``KafkaProducerConfiguration/transactionalID``.
///
/// ```swift
/// try await producer.initTransactions()
/// try producer.beginTransaction()
/// try await producer.send(topic: "orders", key: nil, value: Array("paid".utf8))
/// try await producer.commitTransaction()   // or abortTransaction()
/// ```
///
/// The policy is ``KafkaTransactionMachine`` (held under the producer's one lock next to the
/// record machine); this extension performs its requests: FindCoordinator (key type 1) for the
/// transactional id, InitProducerId, AddPartitionsToTxn before a partition's first batch in a
/// transaction, AddOffsetsToTxn and TxnOffsetCommit, EndTxn.
extension KafkaProducer {
    /// The transaction state, for a transactional producer (nil otherwise).
    public var transactionState: KafkaTransactionMachine.State? { state.withLock { $0.transaction?.state } }

    /// Finds the transaction coordinator and gets the producer id and epoch for the
    /// transactional id, like the Java client's `initTransactions`: an older producer with the
    /// same id is fenced and its open transaction aborted. Call once, before the first
    /// transaction.
    ///
    /// - Throws: ``KafkaError`` `invalidTransactionState` without a transactional id or when
    ///   called twice; `producerFenced` when the id is not authorized; `brokerError` for other
    ///   refusals (for example INVALID_TRANSACTION_TIMEOUT). Retriable errors are retried.
    public func initTransactions() async throws(KafkaError) {
        try await runTransactionOperation { $0.initRequested() }
    }

    /// Opens a transaction: records produced from now until ``commitTransaction()`` or
    /// ``abortTransaction()`` are part of it. No request is sent until the first record.
    ///
    /// - Throws: ``KafkaError`` `invalidTransactionState` before ``initTransactions()``, or with a
    ///   transaction already open; `producerFenced` after fencing.
    public func beginTransaction() throws(KafkaError) {
        let refusal = state.withLock { state -> KafkaTransactionMachine.Failure? in
            guard state.transaction != nil else { return .invalidState(Self.notTransactional) }
            return state.transaction!.beginRequested()
        }
        if let refusal { throw transactionError(refusal) }
    }

    /// Adds consumed offsets to the open transaction (consume-transform-produce): they become
    /// the group's committed offsets only if the transaction commits. `offsets` are the next
    /// offsets to read (one after the last processed record). Sends AddOffsetsToTxn to the
    /// transaction coordinator, then TxnOffsetCommit version 3 or later to the group's
    /// coordinator with `group`'s generation, member id and instance id (KIP-447).
    ///
    /// - Throws: ``KafkaError`` `invalidTransactionState` outside a transaction;
    ///   `transactionAborted` when the group refused the offsets (the transaction must be
    ///   aborted); `producerFenced`.
    public func sendOffsetsToTransaction(_ offsets: [KafkaTopicPartition: Int64], group: KafkaConsumerGroupMetadata) async throws(KafkaError) {
        try await runTransactionOperation { $0.sendOffsetsRequested(offsets, group: group) }
    }

    /// Sends every record of the transaction, waits for all of them, then commits it (EndTxn):
    /// `read_committed` consumers see its records and the group sees its offsets.
    ///
    /// - Throws: ``KafkaError`` `transactionAborted` when a record or offset of the transaction
    ///   failed (call ``abortTransaction()``); `producerFenced`; `invalidTransactionState`
    ///   without an open transaction.
    public func commitTransaction() async throws(KafkaError) {
        try await runTransactionOperation { $0.commitRequested() }
    }

    /// Aborts the open transaction: records not yet sent fail with `transactionAborted` (records
    /// produced without a delivery callback are counted by the next ``flush()``), records in
    /// flight are waited for, then the coordinator writes abort markers (EndTxn).
    /// `read_committed` consumers never see the transaction's records.
    ///
    /// - Throws: ``KafkaError`` `producerFenced`; `invalidTransactionState` without an open
    ///   transaction.
    public func abortTransaction() async throws(KafkaError) {
        try await runTransactionOperation { $0.abortRequested() }
    }

    static let notTransactional = "this producer has no transactionalID; set KafkaProducerConfiguration.transactionalID to use transactions"

    // MARK: - Driving the transaction machine

    /// Starts a user operation on the machine and waits for its completion.
    private func runTransactionOperation(_ start: @escaping (inout KafkaTransactionMachine) -> [KafkaTransactionMachine.Action]) async throws(KafkaError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, KafkaTransactionMachine.Failure>, Never>) in
            let effects = state.withLock { state -> TransactionEffects? in
                guard state.transaction != nil, !state.closing else { return nil }
                let actions = start(&state.transaction!)
                // A refusal completes at once; otherwise the operation's end resumes this caller.
                if !actions.contains(where: { if case .complete = $0 { true } else { false } }) {
                    state.transactionWaiter = continuation
                    return state.apply(actions)
                }
                return state.apply(actions, immediate: continuation)
            }
            guard let effects else {
                let closing = state.withLock { $0.closing }
                continuation.resume(returning: .failure(.invalidState(closing ? "the producer is closed" : Self.notTransactional)))
                return
            }
            execute(effects)
        }
        if case .failure(let failure) = result { throw transactionError(failure) }
    }

    /// Feeds an event to the transaction machine under the lock and performs what follows.
    func transactionEvent(_ event: (inout KafkaTransactionMachine) -> [KafkaTransactionMachine.Action]) {
        let effects = state.withLock { state -> TransactionEffects in
            guard state.transaction != nil else { return TransactionEffects() }
            return state.apply(event(&state.transaction!))
        }
        execute(effects)
    }

    /// Performs, outside the lock, what the transaction machine's actions left to do.
    func execute(_ effects: TransactionEffects) {
        perform(effects.machineActions)
        if let (continuation, result) = effects.completion { continuation.resume(returning: result) }
        for (request, delay) in effects.requests {
            Task { [self] in await sendTransactionRequest(request, after: delay) }
        }
        if effects.flush {
            Task { [self] in
                await waitUntilIdle()
                transactionEvent { $0.flushed() }
            }
        }
        if !effects.isEmpty { wakeup.wake() }
    }

    /// The error for a transaction failure.
    func transactionError(_ failure: KafkaTransactionMachine.Failure) -> KafkaError {
        let id = configuration.transactionalID.map { "'\($0)'" } ?? "(none)"
        switch failure {
        case .fenced(let code):
            let reason = code == .transactionalIDAuthorizationFailed
                ? "is not authorized to use transactional id \(id) (\(code.name)); grant the transactional-id ACL or use other credentials"
                : "was fenced: a newer producer with transactional id \(id) started (\(code.name)); close this producer, only the newer one can continue"
            return KafkaError(.producerFenced, "the transactional producer \(reason)", brokerErrorCode: code)
        case .fatal(let code, let detail):
            return KafkaError(code == nil ? .closed : .brokerError,
                              "the transactional producer \(id) stopped: \(detail); close it and create a new one", brokerErrorCode: code)
        case .abortable(let code, let detail):
            return KafkaError(.transactionAborted, "the transaction of \(id) failed and must be aborted (abortTransaction): \(detail)", brokerErrorCode: code)
        case .aborted:
            return KafkaError(.transactionAborted, "the record was dropped because the transaction of \(id) was aborted")
        case .invalidState(let detail):
            return KafkaError(.invalidTransactionState, detail)
        }
    }

    // MARK: - Requests

    private func sendTransactionRequest(_ request: KafkaTransactionMachine.Request, after delay: Duration) async {
        if delay > .zero { try? await Task.sleep(for: delay) }
        guard let transactionalID = configuration.transactionalID else { return }
        // Retries of one request end after maxBlock, like the Java client's transactional calls:
        // a coordinator that never answers usefully must not hold the producer forever.
        let now = ContinuousClock.now
        let started = state.withLock { state -> ContinuousClock.Instant in
            if let first = state.transactionRetriesSince[request] { return first }
            state.transactionRetriesSince[request] = now
            return now
        }
        if now - started > configuration.maxBlock {
            state.withLock { _ = $0.transactionRetriesSince.removeValue(forKey: request) }
            transactionEvent { $0.requestFailed(request, retriable: false, detail: "no usable answer within maxBlock (\(configuration.maxBlock)) of retries; the coordinator is unreachable or keeps refusing") }
            return
        }
        func settled() { state.withLock { _ = $0.transactionRetriesSince.removeValue(forKey: request) } }
        do throws(KafkaError) {
            switch request {
            case .findCoordinator:
                let node = try await cluster.findTransactionCoordinator(transactionalID)
                state.withLock { $0.transactionCoordinator = node }
                settled()
                transactionEvent { $0.responseReceived(request, code: .noError) }

            case .initProducerID(let current):
                let connection = try await transactionCoordinatorConnection()
                let version = try connection.version(for: .initProducerID)
                var body = InitProducerIdRequest(transactionalID: transactionalID, transactionTimeoutMs: configuration.transactionTimeout.kafkaMilliseconds)
                if let current, version >= 3 {
                    body.producerID = current.id
                    body.producerEpoch = current.epoch
                }
                let response = try await connection.send(body, version: version)
                let code = KafkaErrorCode(rawValue: response.errorCode)
                if code.isError {
                    transactionEvent { $0.responseReceived(request, code: code) }
                } else if response.producerID < 0 {
                    transactionEvent { $0.requestFailed(request, retriable: false, detail: "InitProducerId v\(version) granted no producer id (\(response.producerID))") }
                } else {
                    let identity = KafkaTransactionMachine.Identity(id: response.producerID, epoch: response.producerEpoch)
                    settled()
                    transactionEvent { $0.producerIDGranted(identity) }
                }

            case .addPartitions(let partitions):
                let connection = try await transactionCoordinatorConnection()
                // Versions 4+ are for brokers verifying transactions; clients use 0 to 3.
                let version = try connection.version(for: .addPartitionsToTxn, clientRange: 0...3)
                let identity = try currentIdentity()
                var byTopic: [String: [Int32]] = [:]
                for partition in partitions { byTopic[partition.topic, default: []].append(partition.partition) }
                let body = AddPartitionsToTxnRequest(
                    transactionalID: transactionalID, producerID: identity.id, producerEpoch: identity.epoch,
                    topics: byTopic.sorted { $0.key < $1.key }.map { .init(name: $0.key, partitions: $0.value.sorted()) })
                let response = try await connection.send(body, version: version)
                var answered = Set<KafkaTopicPartition>()
                var code = KafkaErrorCode.noError
                for topic in response.resultsByTopic {
                    for result in topic.resultsByPartition {
                        answered.insert(KafkaTopicPartition(topic: topic.name, partition: result.partitionIndex))
                        let partitionCode = KafkaErrorCode(rawValue: result.partitionErrorCode)
                        // OPERATION_NOT_ATTEMPTED only says another partition failed.
                        if partitionCode.isError && partitionCode != .operationNotAttempted && !code.isError { code = partitionCode }
                    }
                }
                if !code.isError && !Set(partitions).isSubset(of: answered) {
                    transactionEvent { $0.requestFailed(request, retriable: true, detail: "AddPartitionsToTxn answered without some of the partitions asked about") }
                } else {
                    if !code.isError { settled() }
                    transactionEvent { $0.responseReceived(request, code: code) }
                }

            case .addOffsets(let groupID):
                let connection = try await transactionCoordinatorConnection()
                let version = try connection.version(for: .addOffsetsToTxn)
                let identity = try currentIdentity()
                let body = AddOffsetsToTxnRequest(transactionalID: transactionalID, producerID: identity.id, producerEpoch: identity.epoch, groupID: groupID)
                let response = try await connection.send(body, version: version)
                let code = KafkaErrorCode(rawValue: response.errorCode)
                if !code.isError { settled() }
                transactionEvent { $0.responseReceived(request, code: code) }

            case .commitOffsets(let group, let offsets):
                let (node, _) = try await cluster.findCoordinator(group: group.groupID)
                let connection = try await cluster.connection(to: node)
                // Version 3 carries the member's generation and ids (KIP-447).
                let version = try connection.version(for: .txnOffsetCommit, clientRange: 3...3)
                let identity = try currentIdentity()
                var byTopic: [String: [TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic.TxnOffsetCommitRequestPartition]] = [:]
                for (partition, offset) in offsets {
                    byTopic[partition.topic, default: []].append(.init(partitionIndex: partition.partition, committedOffset: offset, committedMetadata: nil))
                }
                let body = TxnOffsetCommitRequest(
                    transactionalID: transactionalID, groupID: group.groupID, producerID: identity.id, producerEpoch: identity.epoch,
                    generationID: group.generationID, memberID: group.memberID, groupInstanceID: group.groupInstanceID,
                    topics: byTopic.sorted { $0.key < $1.key }.map { .init(name: $0.key, partitions: $0.value.sorted { $0.partitionIndex < $1.partitionIndex }) })
                let response = try await connection.send(body, version: version)
                var code = KafkaErrorCode.noError
                for topic in response.topics {
                    for partition in topic.partitions where !code.isError { code = KafkaErrorCode(rawValue: partition.errorCode) }
                }
                if !code.isError { settled() }
                transactionEvent { $0.responseReceived(request, code: code) }

            case .endTransaction(let commit):
                let connection = try await transactionCoordinatorConnection()
                let version = try connection.version(for: .endTxn, clientRange: 0...3)
                let identity = try currentIdentity()
                let body = EndTxnRequest(transactionalID: transactionalID, producerID: identity.id, producerEpoch: identity.epoch, committed: commit)
                let response = try await connection.send(body, version: version)
                let code = KafkaErrorCode(rawValue: response.errorCode)
                if !code.isError { settled() }
                transactionEvent { $0.responseReceived(request, code: code) }
            }
        } catch {
            if let code = error.brokerErrorCode, error.code == .brokerError {
                transactionEvent { $0.responseReceived(request, code: code) }
            } else {
                transactionEvent { $0.requestFailed(request, retriable: error.isRetriable, detail: error.description) }
            }
        }
    }

    private func transactionCoordinatorConnection() async throws(KafkaError) -> KafkaBrokerConnection {
        guard let node = state.withLock({ $0.transactionCoordinator }) else {
            throw KafkaError(.connectionLost, "the transaction coordinator is not known")
        }
        return try await cluster.connection(to: node)
    }

    private func currentIdentity() throws(KafkaError) -> KafkaTransactionMachine.Identity {
        guard let identity = state.withLock({ $0.transaction?.identity }) else {
            throw KafkaError(.invalidTransactionState, "no producer id yet; call initTransactions() first")
        }
        return identity
    }
}

/// What applying transaction actions under the lock left for the driver to do outside it.
struct TransactionEffects: Sendable {
    var machineActions: [KafkaProducer.Machine.Action] = []
    var requests: [(KafkaTransactionMachine.Request, Duration)] = []
    var flush = false
    var completion: (CheckedContinuation<Result<Void, KafkaTransactionMachine.Failure>, Never>, Result<Void, KafkaTransactionMachine.Failure>)?

    var isEmpty: Bool { machineActions.isEmpty && requests.isEmpty && !flush && completion == nil }
}

extension DriverState {
    /// Applies the transaction machine's actions that change the record machine (under the
    /// lock) and collects the rest. `immediate` receives a completion instead of the waiter.
    mutating func apply(_ actions: [KafkaTransactionMachine.Action],
                        immediate: CheckedContinuation<Result<Void, KafkaTransactionMachine.Failure>, Never>? = nil) -> TransactionEffects {
        var effects = TransactionEffects()
        for action in actions {
            switch action {
            case .send(let request, let delay):
                effects.requests.append((request, delay))
            case .flush:
                effects.flush = true
            case .failBuffered(let failure):
                effects.machineActions += machine.failBuffered(failure)
            case .partitionsAdded(let partitions):
                machine.partitionsAddedToTransaction(partitions)
            case .identityGranted(let identity):
                effects.machineActions += machine.producerIDGranted(.init(id: identity.id, epoch: identity.epoch))
            case .transactionEnded:
                machine.transactionEnded()
            case .complete(let failure):
                let result: Result<Void, KafkaTransactionMachine.Failure> = failure.map { .failure($0) } ?? .success(())
                if let immediate {
                    effects.completion = (immediate, result)
                } else if let waiter = transactionWaiter {
                    transactionWaiter = nil
                    effects.completion = (waiter, result)
                }
            }
        }
        return effects
    }
}
