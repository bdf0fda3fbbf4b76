/// The reset logic of an ordered consumer, pure: no clock, no I/O (ADR-17).
///
/// An ordered consumer is a series of short-lived ephemeral consumers. Each delivers messages
/// with consumer sequences 1, 2, 3…; any gap, a consumer that disappears, missed heartbeats or a
/// reconnect retire the current one, and the next starts at the stream sequence after the last
/// message handed to the caller, under a new name (so names never collide).
struct OrderedConsumerMachine: Equatable, Sendable {
    /// What the driver must do.
    enum Action: Equatable, Sendable {
        /// Hand the message to the caller.
        case deliver
        /// Drop the message (it comes from a retired consumer).
        case ignore
        /// Retire the current consumer and create `name`, starting at `startSequence`
        /// (nil: the caller's original deliver policy, since nothing was delivered yet).
        case recreate(name: String, startSequence: UInt64?)
    }

    /// Prefix of every consumer name of this ordered consumer.
    let namePrefix: String
    /// How many consumers were created so far (the current one is number `generation`).
    private(set) var generation = 1
    /// The consumer sequence the next message must have.
    private(set) var expectedConsumerSequence: UInt64 = 1
    /// The stream sequence of the last message delivered to the caller (0: none yet).
    private(set) var lastStreamSequence: UInt64 = 0

    init(namePrefix: String) {
        self.namePrefix = namePrefix
    }

    /// The current consumer's name.
    var consumerName: String { "\(namePrefix)_\(generation)" }

    /// A message of `consumer` arrived with these sequences.
    mutating func messageReceived(consumer: String, streamSequence: UInt64, consumerSequence: UInt64) -> Action {
        guard consumer == consumerName else { return .ignore }
        // Consumer sequences must be contiguous, and stream sequences must only grow: anything
        // else means a gap or a replay, and the consumer is recreated after the last delivered.
        guard consumerSequence == expectedConsumerSequence, streamSequence > lastStreamSequence else { return reset() }
        expectedConsumerSequence += 1
        lastStreamSequence = streamSequence
        return .deliver
    }

    /// Two heartbeats went missing: the consumer or its pull request is gone.
    mutating func heartbeatsMissed() -> Action { reset() }

    /// The server deleted the consumer (or it expired).
    mutating func consumerDeleted() -> Action { reset() }

    /// The connection was re-established.
    mutating func reconnected() -> Action { reset() }

    /// Creating the next consumer failed; try again later under yet another name.
    mutating func creationFailed() -> Action { reset() }

    private mutating func reset() -> Action {
        generation += 1
        expectedConsumerSequence = 1
        return .recreate(name: consumerName, startSequence: lastStreamSequence == 0 ? nil : lastStreamSequence + 1)
    }
}
