import JetStreamToolSupport
import Testing
import ToolSupport
import TributaryJetStream

@Suite("nats-stream and nats-consumer command lines")
struct StreamToolCommandTests {
    static let environment = ["NATS_URL": "nats://127.0.0.1:4333"]

    static func stream(_ arguments: [String]) throws -> StreamToolCommand {
        guard case .run(let name, let parsed) = try StreamToolCommand.commands.parse(arguments) else {
            throw UsageError("expected a command to run")
        }
        return try StreamToolCommand(name, parsed, environment: environment)
    }

    static func consumer(_ arguments: [String]) throws -> ConsumerToolCommand {
        guard case .run(let name, let parsed) = try ConsumerToolCommand.commands.parse(arguments) else {
            throw UsageError("expected a command to run")
        }
        return try ConsumerToolCommand(name, parsed, environment: environment)
    }

    @Test("add takes natscli's flags")
    func add() throws {
        let command = try Self.stream(["add", "ORDERS", "--subjects", "orders.>,billing.*", "--subjects", "x.y", "--storage", "memory",
                                       "--retention", "work", "--discard", "new", "--max-msgs", "1000", "--max-bytes", "1GB",
                                       "--max-age", "7d", "--max-msg-size", "512K", "--max-msgs-per-subject=-1",
                                       "--replicas", "1", "--dupe-window", "5m", "--allow-direct", "--defaults"])
        #expect(command.connection.servers == "nats://127.0.0.1:4333")
        guard case .add(let config) = command.action else { Issue.record("not add: \(command.action)"); return }
        #expect(config.name == "ORDERS")
        #expect(config.subjects == ["orders.>", "billing.*", "x.y"])
        #expect(config.storage == .memory && config.retention == .workQueue && config.discard == .new)
        #expect(config.maxMsgs == 1000 && config.maxBytes == 1 << 30 && config.maxMsgSize == 512 * 1024 && config.maxMsgsPerSubject == -1)
        #expect(config.maxAge == .seconds(7 * 86_400))
        #expect(config.duplicateWindow == .seconds(300))
        #expect(config.allowDirect == true)
        #expect(config.replicas == 1)
    }

    @Test("the other stream commands", arguments: [
        (["info", "S", "--json"], StreamToolCommand.Action.info(name: "S", json: true)),
        (["ls"], .list(namesOnly: false, subject: nil)),
        (["list", "-n", "--subject", "a.b"], .list(namesOnly: true, subject: "a.b")),
        (["rm", "S", "-f"], .remove(name: "S")),
        (["purge", "S", "-f", "--subject", "a.b", "--keep", "3"], .purge(name: "S", subject: "a.b", sequence: nil, keep: 3)),
        (["purge", "S", "--force", "--seq", "10"], .purge(name: "S", subject: nil, sequence: 10, keep: nil)),
        (["get", "S", "42"], .get(name: "S", sequence: 42, lastFor: nil)),
        (["get", "S", "--last-for", "a.b"], .get(name: "S", sequence: nil, lastFor: "a.b")),
        (["view", "S"], .view(name: "S", count: 10, startSequence: nil, subject: nil)),
        (["view", "S", "3", "--id", "7", "--subject", "a.>"], .view(name: "S", count: 3, startSequence: 7, subject: "a.>")),
    ])
    func streamCommands(arguments: [String], expected: StreamToolCommand.Action) throws {
        #expect(try Self.stream(arguments).action == expected)
    }

    @Test("usage errors say what is wrong", arguments: [
        (["rm", "S"], "add -f to confirm"),
        (["purge", "S"], "add -f to confirm"),
        (["purge", "S", "-f", "--seq", "1", "--keep", "2"], "not both"),
        (["get", "S"], "one of them"),
        (["add", "a.b"], "invalid stream name"),
        (["add", "S", "--storage", "tape"], "--storage must be one of file, memory"),
        (["add", "S", "--max-age", "7x"], "--max-age"),
        (["add", "S", "--max-bytes", "lots"], "--max-bytes expects a size"),
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["view", "S", "0"], "COUNT must be a positive"),
    ])
    func streamUsageErrors(arguments: [String], message: String) {
        let error = #expect(throws: UsageError.self) { try Self.stream(arguments) }
        #expect(error?.message.contains(message) == true, "message was: \(error?.message ?? "nil")")
    }

    @Test("connection flags may come before the command")
    func flagsFirst() throws {
        let command = try Self.stream(["-s", "nats://10.0.0.1:4222", "--timeout", "2s", "info", "S"])
        #expect(command.connection.servers == "nats://10.0.0.1:4222")
        #expect(command.connection.timeout == .seconds(2))
        #expect(command.action == .info(name: "S", json: false))
        #expect(try Self.consumer(["--server=nats://h:1", "ls", "S"]).action == .list(stream: "S", namesOnly: false))
    }

    @Test("help: the tool's with no command, a command's with -h")
    func help() throws {
        #expect(try StreamToolCommand.commands.parse([]) == .toolHelp)
        #expect(try StreamToolCommand.commands.parse(["--help"]) == .toolHelp)
        #expect(try StreamToolCommand.commands.parse(["add", "-h"]) == .commandHelp(CommandSpec.Name("nats-stream add")))
        #expect(StreamToolCommand.commands.helpText.contains("  purge   Removes messages"))
    }

    @Test("consumer add takes natscli's flags")
    func consumerAdd() throws {
        let command = try Self.consumer(["add", "ORDERS", "billing", "--filter", "orders.created", "--ack", "explicit", "--deliver", "42",
                                         "--replay", "original", "--max-deliver", "5", "--wait", "30s", "--max-pending", "100",
                                         "--backoff", "1s,5s", "--inactive-threshold", "1m", "--pull"])
        guard case .add(let stream, let config) = command.action else { Issue.record("not add"); return }
        #expect(stream == "ORDERS")
        #expect(config.durableName == "billing")
        #expect(config.filterSubject == "orders.created")
        #expect(config.ackPolicy == .explicit && config.replayPolicy == .original)
        #expect(config.deliverPolicy == .byStartSequence && config.optStartSeq == 42)
        #expect(config.maxDeliver == 5 && config.ackWait == .seconds(30) && config.maxAckPending == 100)
        #expect(config.backoff == [.seconds(1), .seconds(5)])
        #expect(config.inactiveThreshold == .seconds(60))
        let ephemeral = try Self.consumer(["add", "ORDERS", "--ephemeral", "--filter", "a,b", "--deliver", "last"])
        guard case .add(_, let second) = ephemeral.action else { Issue.record("not add"); return }
        #expect(second.durableName == nil && second.filterSubjects == ["a", "b"] && second.deliverPolicy == .last)
    }

    @Test("the other consumer commands and their errors")
    func consumerCommands() throws {
        #expect(try Self.consumer(["next", "S", "C", "--count", "5", "--wait", "2s", "--no-ack"]).action
                == .next(stream: "S", name: "C", count: 5, wait: .seconds(2), noAck: true))
        #expect(try Self.consumer(["next", "S", "C"]).action == .next(stream: "S", name: "C", count: 1, wait: .seconds(5), noAck: false))
        #expect(try Self.consumer(["info", "S", "C"]).action == .info(stream: "S", name: "C", json: false))
        #expect(try Self.consumer(["ls", "S", "-n"]).action == .list(stream: "S", namesOnly: true))
        #expect(try Self.consumer(["rm", "S", "C", "-f"]).action == .remove(stream: "S", name: "C"))
        #expect(throws: UsageError.self) { try Self.consumer(["rm", "S", "C"]) }
        #expect(throws: UsageError.self) { try Self.consumer(["add", "S"]) }
        #expect(throws: UsageError.self) { try Self.consumer(["add", "S", "C", "--ephemeral"]) }
        #expect(throws: UsageError.self) { try Self.consumer(["add", "S", "C", "--deliver", "sometime"]) }
        #expect(throws: UsageError.self) { try Self.consumer(["next", "S", "C", "--count", "0"]) }
    }

    @Test("value syntaxes")
    func syntaxes() throws {
        #expect(try JetStreamArguments.longDuration("1y", flag: "x") == .seconds(365 * 86_400))
        #expect(try JetStreamArguments.longDuration("2d12h", flag: "x") == .seconds(2 * 86_400 + 12 * 3600))
        #expect(try JetStreamArguments.longDuration("90s", flag: "x") == .seconds(90))
        #expect(try JetStreamArguments.size("10MiB", flag: "x") == 10 << 20)
        #expect(try JetStreamArguments.size("123", flag: "x") == 123)
        #expect(try JetStreamArguments.size("-1", flag: "x") == -1)
        #expect(JetStreamToolFormat.time(nanoseconds: 1_700_000_000_123_000_000) == "2023-11-14T22:13:20.123Z")
        #expect(JetStreamToolFormat.time(nanoseconds: 0) == "1970-01-01T00:00:00Z")
        #expect(JetStreamToolFormat.bytes(1536) == "1.5 KiB")
    }
}
