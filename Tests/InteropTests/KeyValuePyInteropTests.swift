import Foundation
import Testing
import TributaryJetStream
import TributaryNATS
import TributaryTestSupport

func keyValuePeerScript() -> String {
    BrokerEnvironment.repoRoot().appendingPathComponent("Tests/InteropTests/peers/nats_py_kv_peer.py").path
}

/// Tributary's key-value store against nats-py's, both directions.
@Suite("Key-value interop with nats-py")
struct KeyValuePyInteropTests {
    func runPython(_ arguments: [String]) throws -> ChildProcess {
        ChildProcess(try BrokerEnvironment.pythonExecutable(), [keyValuePeerScript()] + arguments)
    }

    /// The JSON lines of a peer's stdout.
    func jsonLines(_ text: String) -> [Any] {
        text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
    }

    @Test func bucketMadeByNatsPyIsReadAndWatchedByTributary() async throws {
        let url = try BrokerEnvironment.natsURL()
        let bucket = "pykv_\(UInt32.random(in: 0...UInt32.max))"
        let peer = try runPython(["make", url, bucket])
        try peer.start()
        let made = await peer.finish()
        #expect(made.status == 0, "nats-py peer failed: \(made.stderr)")

        let client = try await NATSClient.connect(url: url)
        let js = try JetStreamContext(client: client)
        let kv = try await js.keyValue(bucket)
        let status = try await kv.status()
        #expect(status.allowsDirect == false, "nats-py makes buckets without direct get")
        #expect(status.history == 5)
        #expect(try await kv.get("a").string == "2")
        let missing = await kvErrorCode { _ = try await kv.get("b") }
        #expect(missing == .keyNotFound, "b was deleted by nats-py")
        #expect(try await kv.keys() == ["a"])
        #expect(try await kv.history("a").map(\.string) == ["1", "2"])
        #expect(try await kv.history("b").map(\.operation) == [.put, .delete])

        let watcher = try await kv.watchAll()
        var iterator = watcher.makeAsyncIterator()
        let first = try #require(try await iterator.next()?.entry)
        let second = try #require(try await iterator.next()?.entry)
        #expect([first.key, second.key] == ["a", "b"])
        #expect([first.operation, second.operation] == [.put, .delete])
        #expect(try await iterator.next() == .initialValuesDone)
        // Writes into nats-py's bucket: compare-and-set on its revisions works.
        let current = try await kv.get("a")
        try await kv.update("a", "3", lastRevision: current.revision)
        #expect(try await iterator.next()?.entry?.string == "3")
        await watcher.close()
        try await js.deleteKeyValue(bucket)
        await client.close()
    }

    @Test func bucketMadeByTributaryIsReadAndWatchedByNatsPy() async throws {
        let url = try BrokerEnvironment.natsURL()
        let bucket = "trkv_\(UInt32.random(in: 0...UInt32.max))"
        let client = try await NATSClient.connect(url: url)
        let js = try JetStreamContext(client: client)
        let kv = try await js.createKeyValue(KeyValueConfig(bucket: bucket, history: 4))
        let r1 = try await kv.put("a", "1")
        try await kv.put("a", "2")
        try await kv.put("b", "3")
        try await kv.delete("b")

        let reader = try runPython(["read", url, bucket])
        try reader.start()
        let read = await reader.finish()
        #expect(read.status == 0, "nats-py peer failed: \(read.stderr)")
        let object = try #require(jsonLines(read.stdout).first as? [String: Any])
        #expect(object["a"] as? String == "2")
        #expect(object["b_missing"] as? Bool == true)
        #expect(object["keys"] as? [String] == ["a"])
        #expect(object["history"] as? Int == 4)
        let history = try #require(object["history_a"] as? [[Any]])
        #expect(history.map { $0[0] as? String } == ["1", "2"])
        #expect((history.first?[2] as? NSNumber)?.uint64Value == r1)

        let watcher = try runPython(["watch", url, bucket, "3", "20"])
        try watcher.start()
        try await watcher.waitForLine("READY")
        try await kv.put("c", "4")
        try await kv.delete("a")
        try await kv.purge("c")
        let watched = await watcher.finish()
        #expect(watched.status == 0, "nats-py watcher failed: \(watched.stderr)")
        let lines = jsonLines(watched.stdout)
        let initial = try #require((lines.first as? [String: Any])?["initial"] as? [[Any]])
        #expect(initial.map { $0[0] as? String } == ["a", "b"])
        #expect(initial.map { $0[2] as? String } == [nil, "DEL"])
        let updates = lines.dropFirst().compactMap { $0 as? [Any] }
        #expect(updates.map { $0[0] as? String } == ["c", "a", "c"])
        #expect(updates.map { $0[2] as? String } == [nil, "DEL", "PURGE"])
        try await js.deleteKeyValue(bucket)
        await client.close()
    }
}

/// The code of the key-value error `body` throws, or nil (recording an issue) when it throws none.
func kvErrorCode(_ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) async -> KeyValueError.Code? {
    do {
        try await body()
        Issue.record("expected a KeyValueError, got success", sourceLocation: sourceLocation)
    } catch let error as KeyValueError {
        return error.code
    } catch {
        Issue.record("expected a KeyValueError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}
