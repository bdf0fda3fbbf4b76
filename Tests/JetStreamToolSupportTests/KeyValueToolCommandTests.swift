import Foundation
import JetStreamToolSupport
import Testing
import ToolSupport
import TributaryJetStream

@Suite("nats-kv command lines")
struct KeyValueToolCommandTests {
    static let environment = ["NATS_URL": "nats://127.0.0.1:4333"]

    static func kv(_ arguments: [String]) throws -> KeyValueToolCommand {
        guard case .run(let name, let parsed) = try KeyValueToolCommand.commands.parse(arguments) else {
            throw UsageError("expected a command to run")
        }
        return try KeyValueToolCommand(name, parsed, environment: environment)
    }

    static func usage(_ arguments: [String]) -> String? {
        do {
            _ = try kv(arguments)
            return nil
        } catch let error as UsageError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test("add takes natscli's flags")
    func add() throws {
        let command = try Self.kv(["add", "CONFIG", "--history", "5", "--ttl", "1d", "--replicas", "1", "--max-value-size", "1K",
                                   "--max-bucket-size", "1MB", "--storage", "memory", "--description", "app settings", "--compress"])
        #expect(command.connection.servers == "nats://127.0.0.1:4333")
        guard case .add(let config) = command.action else { Issue.record("not add: \(command.action)"); return }
        #expect(config.bucket == "CONFIG")
        #expect(config.history == 5)
        #expect(config.ttl == .seconds(86_400))
        #expect(config.maxValueSize == 1024)
        #expect(config.maxBytes == 1 << 20)
        #expect(config.storage == .memory)
        #expect(config.description == "app settings")
        #expect(config.compression)
        guard case .add(let plain) = try Self.kv(["add", "B"]).action else { Issue.record("not add"); return }
        #expect(plain == KeyValueConfig(bucket: "B"))
    }

    @Test func readAndWriteCommands() throws {
        #expect(try Self.kv(["put", "B", "k", "v"]).action == .put(bucket: "B", key: "k", value: Array("v".utf8)))
        #expect(try Self.kv(["put", "B", "k"]).action == .put(bucket: "B", key: "k", value: nil), "the value comes from stdin")
        #expect(try Self.kv(["get", "B", "k"]).action == .get(bucket: "B", key: "k", revision: nil, raw: false))
        #expect(try Self.kv(["get", "B", "k", "--revision", "7", "--raw"]).action == .get(bucket: "B", key: "k", revision: 7, raw: true))
        #expect(try Self.kv(["create", "B", "k", "v"]).action == .create(bucket: "B", key: "k", value: Array("v".utf8)))
        #expect(try Self.kv(["update", "B", "k", "v", "3"]).action == .update(bucket: "B", key: "k", value: Array("v".utf8), revision: 3))
        #expect(try Self.kv(["del", "B", "k", "-f"]).action == .delete(bucket: "B", key: "k"))
        #expect(try Self.kv(["purge", "B", "k", "--force"]).action == .purge(bucket: "B", key: "k"))
        #expect(try Self.kv(["history", "B", "k"]).action == .history(bucket: "B", key: "k"))
        #expect(try Self.kv(["keys", "B"]).action == .keys(bucket: "B", filters: []))
        #expect(try Self.kv(["keys", "B", "a.*", "b.>"]).action == .keys(bucket: "B", filters: ["a.*", "b.>"]))
        #expect(try Self.kv(["watch", "B"]).action == .watch(bucket: "B", key: ">", count: nil))
        #expect(try Self.kv(["watch", "B", "cfg.*", "--count", "2"]).action == .watch(bucket: "B", key: "cfg.*", count: 2))
        #expect(try Self.kv(["ls"]).action == .list(namesOnly: false))
        #expect(try Self.kv(["ls", "-n"]).action == .list(namesOnly: true))
        #expect(try Self.kv(["rm", "B", "-f"]).action == .remove(bucket: "B"))
        #expect(try Self.kv(["status", "B"]).action == .status(bucket: "B"))
    }

    @Test func mistakesAreUsageErrors() {
        #expect(Self.usage(["del", "B", "k"])?.contains("add -f") == true)
        #expect(Self.usage(["purge", "B", "k"])?.contains("add -f") == true)
        #expect(Self.usage(["rm", "B"])?.contains("add -f") == true)
        #expect(Self.usage(["add", "a.b"])?.contains("invalid bucket name") == true)
        #expect(Self.usage(["add", "B", "--history", "65"])?.contains("--history") == true)
        #expect(Self.usage(["add", "B", "--storage", "tape"]) != nil)
        #expect(Self.usage(["get", "B", "k", "--revision", "x"])?.contains("--revision") == true)
        #expect(Self.usage(["update", "B", "k", "v", "-3"]) != nil)
        #expect(Self.usage(["update", "B", "k", "v"]) != nil, "REVISION is required")
        #expect(Self.usage(["watch", "B", "--count", "0"])?.contains("--count") == true)
        #expect(Self.usage(["put", "B"]) != nil, "KEY is required")
    }

    @Test func outputLooksLikeNatscli() {
        let created = Date(timeIntervalSince1970: 1_700_000_000.25)
        let put = KeyValueEntry(bucket: "B", key: "k", value: Array("v".utf8), revision: 4, created: created, delta: 0, operation: .put)
        let deleted = KeyValueEntry(bucket: "B", key: "k", value: [], revision: 5, created: created, delta: 0, operation: .delete)
        #expect(String(decoding: KeyValueToolFormat.entry(put), as: UTF8.self) == "B > k revision: 4 created @ 2023-11-14T22:13:20.25Z\n\nv\n")
        #expect(KeyValueToolFormat.watchLine(put) == "[2023-11-14T22:13:20.25Z] PUT B > k: v")
        #expect(KeyValueToolFormat.watchLine(deleted) == "[2023-11-14T22:13:20.25Z] DEL B > k")
        #expect(KeyValueToolFormat.history([put, deleted]).count == 3)
        #expect(KeyValueToolFormat.history([put])[1] == "k\t4\tPUT\t2023-11-14T22:13:20.25Z\t1\tv")
    }
}
