import Foundation
import Testing
import TributaryJetStream
import TributaryNATS
import TributaryTestSupport

/// nats-kv runs as a user would run it, against the shared server.
@Suite("nats-kv end to end")
struct KeyValueToolEndToEndTests {
    func run(_ arguments: [String], stdin: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = ChildProcess(try toolPath("nats-kv"), ["-s", try BrokerEnvironment.natsURL()] + arguments)
        try process.start()
        return await process.finish(stdin: stdin.map { Data($0.utf8) })
    }

    @Test func everySubcommand() async throws {
        let bucket = "TOOLKV_\(UInt32.random(in: 0...UInt32.max))"
        let added = try await run(["add", bucket, "--history", "5", "--storage", "memory", "--ttl", "1h"])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stderr.contains("Bucket \(bucket) was created"))
        #expect(added.stdout.contains("History Kept: 5"), "\(added.stdout)")

        #expect(try await run(["put", bucket, "color", "teal"]).stdout == "teal\n")
        #expect(try await run(["put", bucket, "motd"], stdin: "from stdin").status == 0)
        let got = try await run(["get", bucket, "color"])
        #expect(got.stdout.hasPrefix("\(bucket) > color revision: 1 created @ "), "\(got.stdout)")
        #expect(got.stdout.hasSuffix("\n\nteal\n"))
        #expect(try await run(["get", bucket, "motd", "--raw"]).stdout == "from stdin")

        let conflict = try await run(["create", bucket, "color", "red"])
        #expect(conflict.status == 1 && conflict.stderr.contains("already has a value"), "\(conflict.stderr)")
        let stale = try await run(["update", bucket, "color", "red", "9"])
        #expect(stale.status == 1 && stale.stderr.contains("expected revision 9"), "\(stale.stderr)")
        #expect(try await run(["update", bucket, "color", "red", "1"]).status == 0)
        let history = try await run(["history", bucket, "color"])
        #expect(history.stdout.split(separator: "\n").count == 3, "\(history.stdout)")
        #expect(history.stdout.contains("\tteal") && history.stdout.contains("\tred"))

        // A watcher started now prints the current values, then the change made next.
        let watcher = ChildProcess(try toolPath("nats-kv"), ["-s", try BrokerEnvironment.natsURL(), "watch", bucket, "--count", "1"])
        try watcher.start()
        try await watcher.waitForStderr(containing: "Watching bucket \(bucket)")
        #expect(try await run(["del", bucket, "motd"]).status == 1, "del needs -f")
        #expect(try await run(["del", bucket, "motd", "-f"]).stderr.contains("Deleted key motd"))
        let watched = await watcher.finish()
        #expect(watched.status == 0, "\(watched.stderr)")
        let lines = watched.stdout.split(separator: "\n")
        #expect(lines.count == 3, "\(watched.stdout)")
        // Current values in revision order: motd (2), color (3); then the change.
        #expect(lines.first?.hasSuffix("PUT \(bucket) > motd: from stdin") == true, "\(watched.stdout)")
        #expect(lines.dropFirst().first?.hasSuffix("PUT \(bucket) > color: red") == true, "\(watched.stdout)")
        #expect(lines.last?.hasSuffix("DEL \(bucket) > motd") == true)

        #expect(try await run(["keys", bucket]).stdout == "color\n")
        #expect(try await run(["purge", bucket, "color", "-f"]).status == 0)
        let none = try await run(["keys", bucket])
        #expect(none.stdout.isEmpty && none.stderr.contains("No keys found"), "\(none.stderr)")
        #expect(try await run(["ls", "-n"]).stdout.split(separator: "\n").contains(Substring(bucket)))
        #expect(try await run(["status", bucket]).stdout.contains("JetStream Stream: KV_\(bucket)"))
        let bad = try await run(["put", bucket, "bad key", "x"])
        #expect(bad.status == 1 && bad.stderr.contains("invalid key"), "\(bad.stderr)")
        #expect(try await run(["rm", bucket, "-f"]).status == 0)
        let gone = try await run(["get", bucket, "color"])
        #expect(gone.status == 1 && gone.stderr.contains("does not exist"), "\(gone.stderr)")
    }
}
