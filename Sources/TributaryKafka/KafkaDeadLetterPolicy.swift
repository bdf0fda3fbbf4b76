/// Where the group run loop sends a record it gave up on (poison after every attempt, or
/// transient failures past the deadline). There is no default topic: choose one.
///
/// ```swift
/// try await member.run(deadLetter: .suffix(".DLQ")) { record in … }      // orders → orders.DLQ
/// try await member.run(deadLetter: .topic("orders.failed")) { record in … }
/// try await member.run(deadLetter: .none) { record in … }                 // give-up ends the run
/// ```
///
/// A dead letter keeps the record's key, value and headers and adds headers naming the error,
/// the reason, the attempts and the origin (topic, partition, offset). A dead-letter topic that
/// does not exist is created with the origin topic's partition count.
public struct KafkaDeadLetterPolicy: Sendable {
    enum Destination: Sendable {
        case none
        case topic(String)
        case derived(@Sendable (String) -> String)
    }

    let destination: Destination
    /// Called (on the run loop's task, outside any lock) after each record was dead-lettered;
    /// keep it short. Default none. ``KafkaGroupConsumer/deadLetterCounts`` counts them too.
    public var onDeadLetter: (@Sendable (KafkaDeadLetter) -> Void)?

    private init(_ destination: Destination) { self.destination = destination }

    /// No dead-letter topic: a record the run loop gives up on ends `run` with a ``KafkaError``
    /// naming it; its offset is not committed, so the next run starts with it again.
    public static let none = KafkaDeadLetterPolicy(.none)

    /// Every dead letter goes to `topic`.
    public static func topic(_ topic: String) -> KafkaDeadLetterPolicy { KafkaDeadLetterPolicy(.topic(topic)) }

    /// Dead letters of `orders` go to `orders` + `suffix` (`.suffix(".DLQ")`: `orders.DLQ`).
    public static func suffix(_ suffix: String) -> KafkaDeadLetterPolicy { KafkaDeadLetterPolicy(.derived { $0 + suffix }) }

    /// Dead letters go to the topic `destination` names for the origin topic.
    public static func topic(for destination: @escaping @Sendable (String) -> String) -> KafkaDeadLetterPolicy {
        KafkaDeadLetterPolicy(.derived(destination))
    }

    /// This policy, calling `body` after each dead letter.
    public func notifying(_ body: @escaping @Sendable (KafkaDeadLetter) -> Void) -> KafkaDeadLetterPolicy {
        var copy = self
        copy.onDeadLetter = body
        return copy
    }

    /// The dead-letter topic for records of `topic`; nil for ``none``.
    public func topic(forRecordsOf topic: String) -> String? {
        switch destination {
        case .none: nil
        case .topic(let name): name
        case .derived(let name): name(topic)
        }
    }

    /// Header on a dead letter: the error's description.
    public static let errorHeader = "dlq.error"
    /// Header on a dead letter: why the run loop gave up (``KafkaDeadLetterReason``).
    public static let reasonHeader = "dlq.reason"
    /// Header on a dead letter: how many times the handler was called.
    public static let attemptsHeader = "dlq.attempts"
    /// Header on a dead letter: the origin topic.
    public static let topicHeader = "dlq.original.topic"
    /// Header on a dead letter: the origin partition.
    public static let partitionHeader = "dlq.original.partition"
    /// Header on a dead letter: the origin offset.
    public static let offsetHeader = "dlq.original.offset"
}

/// Why the run loop gave up on a record.
public enum KafkaDeadLetterReason: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The handler rejected the record on every one of ``KafkaRetryPolicy/attempts``.
    case poison
    /// Transient failures went on past ``KafkaRetryPolicy/transientTimeout``.
    case transientTimeout

    /// `poison` or `transientTimeout`.
    public var description: String { rawValue }
}

/// A record the run loop sent to a dead-letter topic, as handed to
/// ``KafkaDeadLetterPolicy/onDeadLetter``.
public struct KafkaDeadLetter: Sendable, CustomStringConvertible {
    /// The original record.
    public var record: KafkaConsumerRecord
    /// The dead-letter topic it went to.
    public var destination: String
    /// Why the run loop gave up.
    public var reason: KafkaDeadLetterReason
    /// How many times the handler was called for it.
    public var attempts: Int
    /// The last error the handler threw.
    public var error: any Error

    /// `orders [2] @ 41 → orders.DLQ (poison after 3 attempts): <error>`.
    public var description: String {
        "\(record) → \(destination) (\(reason) after \(attempts) attempt\(attempts == 1 ? "" : "s")): \(error)"
    }
}

/// How many records a group member dead-lettered, by reason.
public struct KafkaDeadLetterCounts: Sendable, Hashable, CustomStringConvertible {
    /// Dead letters sent, all reasons.
    public var total: Int { byReason.values.reduce(0, +) }
    /// Dead letters sent per reason (absent: zero).
    public var byReason: [KafkaDeadLetterReason: Int] = [:]

    /// No dead letters.
    public init() {}

    /// `3 dead letters (poison 2, transientTimeout 1)`.
    public var description: String {
        let parts = KafkaDeadLetterReason.allCases.compactMap { reason in byReason[reason].map { "\(reason) \($0)" } }
        return "\(total) dead letter\(total == 1 ? "" : "s")" + (parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))")
    }
}
