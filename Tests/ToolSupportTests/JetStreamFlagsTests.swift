import Testing
import ToolSupport

@Suite("JetStream flags of nats-pub and nats-sub")
struct JetStreamFlagsTests {
    static func subscribe(_ arguments: [String]) throws(UsageError) -> SubscribeCommand {
        guard let command = try SubscribeCommand.parse(arguments, environment: [:]) else { throw UsageError("help") }
        return command
    }

    static func publish(_ arguments: [String]) throws(UsageError) -> PublishCommand {
        guard let command = try PublishCommand.parse(arguments, environment: [:]) else { throw UsageError("help") }
        return command
    }

    static func usageMessage(_ body: () throws -> Void) -> String? {
        do { try body() } catch { return (error as? UsageError)?.message ?? "\(error)" }
        return nil
    }

    @Test func replayStarts() throws {
        #expect(try Self.subscribe(["a"]).replay == nil)
        #expect(try Self.subscribe(["--stream", "S"]).replay == SubscribeCommand.StreamReplay(stream: "S", start: .all, terminateAtEnd: false))
        #expect(try Self.subscribe(["--stream", "S", "--new", "a.>"]).replay?.start == .new)
        #expect(try Self.subscribe(["--stream", "S", "--last"]).replay?.start == .last)
        #expect(try Self.subscribe(["--stream", "S", "--last-per-subject", "-T"]).replay == SubscribeCommand.StreamReplay(stream: "S", start: .lastPerSubject, terminateAtEnd: true))
        #expect(try Self.subscribe(["--stream", "S", "--start-sequence", "42"]).replay?.start == .sequence(42))
        #expect(try Self.subscribe(["--stream", "S", "--since", "90s"]).replay?.start == .since(.seconds(90)))
        #expect(try Self.subscribe(["--stream", "S", "--since", "2d3h"]).replay?.start == .since(.seconds(2 * 86_400 + 3 * 3_600)))
        #expect(try Self.subscribe(["--stream", "S", "--since", "1w"]).replay?.start == .since(.seconds(604_800)))
    }

    @Test func replayMisuse() {
        #expect(Self.usageMessage { _ = try Self.subscribe([]) } == "missing SUBJECT argument")
        #expect(Self.usageMessage { _ = try Self.subscribe(["--all", "a"]) } == "--all needs --stream STREAM")
        #expect(Self.usageMessage { _ = try Self.subscribe(["-T", "a"]) } == "--terminate-at-end needs --stream STREAM")
        #expect(Self.usageMessage { _ = try Self.subscribe(["--stream", "S", "--all", "--since", "1h"]) }?.contains("cannot be combined") == true)
        #expect(Self.usageMessage { _ = try Self.subscribe(["--stream", "S", "a", "b"]) }?.contains("at most one SUBJECT") == true)
        #expect(Self.usageMessage { _ = try Self.subscribe(["--stream", "S", "--queue", "q", "a"]) }?.contains("--queue cannot be used") == true)
        #expect(Self.usageMessage { _ = try Self.subscribe(["--stream", "S", "--start-sequence", "0"]) }?.contains("--start-sequence") == true)
        #expect(Self.usageMessage { _ = try Self.subscribe(["--stream", "S", "--since", "3x"]) }?.contains("--since") == true)
        #expect(Self.usageMessage { _ = try Self.subscribe(["--stream", "A.B"]) }?.contains("invalid stream name") == true)
    }

    @Test func publishJetStream() throws {
        #expect(try Self.publish(["a", "b"]).jetstream == false)
        #expect(try Self.publish(["-J", "a", "b"]).jetstream)
        #expect(try Self.publish(["--jetstream", "--count", "3", "a", "b"]).count == 3)
        #expect(Self.usageMessage { _ = try Self.publish(["-J", "--reply", "r", "a", "b"]) }?.contains("--reply cannot be used with --jetstream") == true)
    }

    @Test func formats() {
        #expect(MessageFormat.stored(stream: "ORDERS", sequence: 12, domain: nil, duplicate: false) == "Stored in Stream: ORDERS Sequence: 12")
        #expect(MessageFormat.stored(stream: "O", sequence: 1_234_567, domain: "hub", duplicate: true) == "Stored in Stream: O Sequence: 1,234,567 Domain: \"hub\" Duplicate: true")
        #expect(MessageFormat.grouped(0) == "0" && MessageFormat.grouped(999) == "999" && MessageFormat.grouped(1000) == "1,000")
        #expect(MessageFormat.replaying(subject: "a.>", stream: "S", start: .all) == "Subscribing to subject a.> from first received message")
        #expect(MessageFormat.replaying(subject: nil, stream: "S", start: .sequence(5)) == "Subscribing to all subjects of stream S starting at sequence 5")
    }
}
