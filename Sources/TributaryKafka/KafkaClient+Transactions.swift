import TributaryKafkaProtocol

// `KafkaProducer.transactionState` returns the machine's state: nameable with `import TributaryKafka` alone.
@_exported import struct TributaryKafkaProtocol.KafkaTransactionMachine

/// The group identity a transactional producer sends with consumed offsets (TxnOffsetCommit
/// version 3+, KIP-447), like the Java client's `ConsumerGroupMetadata`: the group coordinator
/// refuses offsets from a member that left the group or an older generation, so a zombie
/// instance cannot commit. The transaction machine's own type, named for the client.
public typealias KafkaConsumerGroupMetadata = KafkaTransactionMachine.GroupMetadata

extension KafkaGroupConsumer {
    /// The member's group metadata for ``KafkaProducer/sendOffsetsToTransaction(_:group:)``: the
    /// group id, the current generation, member id and instance id.
    public var groupMetadata: KafkaConsumerGroupMetadata {
        KafkaConsumerGroupMetadata(groupID: configuration.groupID, generationID: generationID, memberID: memberID,
                                   groupInstanceID: configuration.groupInstanceID)
    }
}

extension KafkaCluster {
    /// The transaction coordinator of `transactionalID`: FindCoordinator with key type 1
    /// (transaction) on any broker. Returns its node id.
    func findTransactionCoordinator(_ transactionalID: String) async throws(KafkaError) -> Int32 {
        let (connection, _) = try await anyConnection()
        let version = try connection.version(for: .findCoordinator, clientRange: 1...Int16.max)
        var request = FindCoordinatorRequest()
        request.keyType = 1
        if version >= 4 { request.coordinatorKeys = [transactionalID] } else { request.key = transactionalID }
        let response = try await connection.send(request, version: version)
        var code = KafkaErrorCode(rawValue: response.errorCode)
        var node = response.nodeID
        var message = response.errorMessage
        if version >= 4 {
            guard let entry = response.coordinators.first(where: { $0.key == transactionalID }) else {
                throw KafkaError(.protocolError, "FindCoordinator answered without the transactional id asked about", broker: connection.endpoint, api: .findCoordinator)
            }
            code = KafkaErrorCode(rawValue: entry.errorCode)
            node = entry.nodeID
            message = entry.errorMessage
        }
        if code.isError { throw KafkaError.broker(code, api: .findCoordinator, broker: connection.endpoint, serverMessage: message) }
        return node
    }
}
