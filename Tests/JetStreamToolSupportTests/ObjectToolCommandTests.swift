import Foundation
import JetStreamToolSupport
import Testing
import ToolSupport
import TributaryJetStream

@Suite("nats-obj command line and output")
struct ObjectToolCommandTests {
    static let environment = ["NATS_URL": "nats://127.0.0.1:4333"]

    static func parse(_ arguments: [String]) throws -> ObjectToolCommand {
        guard case .run(let name, let parsed) = try ObjectToolCommand.commands.parse(arguments) else {
            throw UsageError("expected a command to run")
        }
        return try ObjectToolCommand(name, parsed, environment: environment)
    }

    static func usageError(_ arguments: [String]) -> String? {
        do {
            _ = try parse(arguments)
            return nil
        } catch let error as UsageError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test func addTakesNatscliFlags() throws {
        let command = try Self.parse(["add", "BACKUPS", "--ttl", "30d", "--max-bucket-size", "10GB", "--storage", "memory",
                                      "--replicas", "1", "--description", "nightly", "--metadata", "team:ops", "--metadata", "tier:gold"])
        #expect(command.connection.servers == "nats://127.0.0.1:4333")
        guard case .add(let config) = command.action else { Issue.record("not add: \(command.action)"); return }
        #expect(config.bucket == "BACKUPS" && config.ttl == .seconds(30 * 86_400) && config.maxBytes == 10 << 30)
        #expect(config.storage == .memory && config.replicas == 1 && config.description == "nightly")
        #expect(config.metadata == ["team": "ops", "tier": "gold"])
    }

    @Test func putGetAndTheRest() throws {
        #expect(try Self.parse(["put", "B", "/tmp/x.bin"]).action
            == .put(bucket: "B", file: "/tmp/x.bin", name: "/tmp/x.bin", description: nil, headers: nil, progress: true))
        #expect(try Self.parse(["put", "B", "x.bin", "--name", "named", "--no-progress", "-H", "K:v1", "-H", "K:v2", "--description", "d"]).action
            == .put(bucket: "B", file: "x.bin", name: "named", description: "d", headers: ["K": ["v1", "v2"]], progress: false))
        #expect(try Self.parse(["get", "B", "dir/obj.bin", "-O", "/dev/null"]).action == .get(bucket: "B", name: "dir/obj.bin", output: "/dev/null", progress: true))
        #expect(try Self.parse(["info", "B"]).action == .info(bucket: "B", name: nil, showDeleted: false))
        #expect(try Self.parse(["info", "B", "o", "--show-deleted"]).action == .info(bucket: "B", name: "o", showDeleted: true))
        #expect(try Self.parse(["ls"]).action == .list(bucket: nil, showDeleted: false))
        #expect(try Self.parse(["ls", "B"]).action == .list(bucket: "B", showDeleted: false))
        #expect(try Self.parse(["rm", "B", "o", "-f"]).action == .remove(bucket: "B", name: "o"))
        #expect(try Self.parse(["rm", "B", "-f"]).action == .remove(bucket: "B", name: nil))
        #expect(try Self.parse(["watch", "B", "--history"]).action == .watch(bucket: "B", includeHistory: true))
        #expect(try Self.parse(["status", "B"]).action == .status(bucket: "B"))
        #expect(try Self.parse(["seal", "B", "-f"]).action == .seal(bucket: "B"))
    }

    @Test func badInputIsAUsageErrorThatSaysWhatToDo() throws {
        #expect(Self.usageError(["add", "bad.bucket"])?.contains("letters, digits") == true)
        #expect(Self.usageError(["rm", "B", "o"])?.contains("-f") == true)
        #expect(Self.usageError(["rm", "B"])?.contains("every object") == true)
        #expect(Self.usageError(["seal", "B"])?.contains("-f") == true)
        #expect(Self.usageError(["put", "B", "f", "--name", "bad\u{1}name"])?.contains("control character") == true)
        #expect(Self.usageError(["add", "B", "--storage", "tape"]) != nil)
        #expect(Self.usageError(["add", "B", "--metadata", "novalue"])?.contains("KEY:VALUE") == true)
        let existing = FileManager.default.temporaryDirectory.appendingPathComponent("objtool-\(UInt32.random(in: 0...UInt32.max))").path
        #expect(FileManager.default.createFile(atPath: existing, contents: Data([1])))
        defer { try? FileManager.default.removeItem(atPath: existing) }
        #expect(Self.usageError(["get", "B", "o", "-O", existing])?.contains("-f") == true)
        #expect(Self.usageError(["get", "B", "o", "-O", existing, "-f"]) == nil)
    }

    @Test func progressLineShowsBytesRateAndETA() {
        #expect(ObjectToolFormat.progress(done: 50 << 20, total: 200 << 20, elapsed: 2) == "50.0 MiB / 200.0 MiB (25%), 25.0 MiB/s, ETA 0m06s")
        #expect(ObjectToolFormat.progress(done: 200 << 20, total: 200 << 20, elapsed: 8) == "200.0 MiB / 200.0 MiB (100%), 25.0 MiB/s")
        #expect(ObjectToolFormat.progress(done: 1024, total: nil, elapsed: 1) == "1.0 KiB, 1.0 KiB/s")
        #expect(ObjectToolFormat.progress(done: 0, total: 0, elapsed: 0) == "0 B / 0 B (100%), 0 B/s")
    }

    @Test func objectInfoAndListOutput() {
        var info = ObjectInfo(meta: ObjectMeta(name: "a.bin", description: "d", metadata: ["k": "v"]), bucket: "B", nuid: "N",
                              size: 1536, modified: "2026-01-01T00:00:00Z", chunks: 1, digest: "SHA-256=x")
        let lines = ObjectToolFormat.objectInfo(info)
        #expect(lines.contains("     Object: a.bin"))
        #expect(lines.contains("       Size: 1.5 KiB (1536 bytes)"))
        #expect(lines.contains("     Digest: SHA-256=x"))
        #expect(lines.contains(" Metadata k: v"))
        #expect(ObjectToolFormat.objectList([info]) == ["1.5 KiB      1       2026-01-01T00:00:00Z  a.bin"])
        #expect(ObjectToolFormat.watchLine(info) == "[2026-01-01T00:00:00Z] PUT 1.5 KiB B > a.bin")
        info.deleted = true
        #expect(ObjectToolFormat.watchLine(info) == "[2026-01-01T00:00:00Z] DEL B > a.bin")
    }
}
