import Foundation
import Testing
import TributaryJetStream
import TributaryNATS
import TributaryTestSupport

func objectPeerScript() -> String {
    BrokerEnvironment.repoRoot().appendingPathComponent("Tests/InteropTests/peers/nats_py_object_peer.py").path
}

/// Deterministic, non-repeating test bytes.
func interopObjectBytes(_ count: Int, seed: UInt32) -> [UInt8] {
    var state = seed | 1
    return (0..<count).map { _ in
        state ^= state << 13; state ^= state >> 17; state ^= state << 5
        return UInt8(truncatingIfNeeded: state)
    }
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { b in let s = String(b, radix: 16); return s.count == 1 ? "0" + s : s }.joined()
}

/// Tributary's object store against nats-py's, both directions, digests checked by each side.
@Suite("Object store interop with nats-py")
struct ObjectStoreInteropTests {
    func python(_ arguments: [String]) async throws -> (status: Int32, json: [String: Any], stderr: String) {
        let process = ChildProcess(try BrokerEnvironment.pythonExecutable(), [objectPeerScript()] + arguments)
        try process.start()
        let result = await process.finish(timeout: .seconds(60))
        let line = result.stdout.split(separator: "\n").first { $0.hasPrefix("{") }.map(String.init) ?? "{}"
        let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
        return (result.status, json, result.stderr)
    }

    func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("objinterop-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func tributaryPutsNatsPyGets() async throws {
        let url = try BrokerEnvironment.natsURL()
        let client = try await NATSClient.connect(url: url)
        let js = try JetStreamContext(client: client)
        let bucket = "PYGET_\(UInt32.random(in: 0...UInt32.max))"
        let store = try await js.createObjectStore(ObjectStoreConfig(bucket: bucket))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }

        let cases: [(String, [UInt8])] = [
            ("multi/chunk object.bin", interopObjectBytes(5 * ObjectStore.defaultChunkSize + 333, seed: 1)),
            ("small", Array("hello from swift".utf8)),
            ("empty", []),
            ("ünïcode name", interopObjectBytes(1000, seed: 2)),
        ]
        for (name, data) in cases {
            let info = try await store.put(name, bytes: data)
            let out = dir.appendingPathComponent(UUID().uuidString).path
            let result = try await python(["get", url, bucket, name, out])
            #expect(result.status == 0, "nats-py get of '\(name)' failed (\(result.status)): \(result.stderr)")
            #expect(result.json["size"] as? Int == data.count, "\(name)")
            #expect(result.json["chunks"] as? Int == Int(info.chunks), "\(name)")
            #expect(result.json["digest"] as? String == info.digest, "\(name)")
            #expect(result.json["sha256_hex"] as? String == hexString(ObjectDigest(of: data).bytes), "\(name)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(data), "\(name)")
        }

        // A corrupted object is refused by nats-py too (its digest check, exit 5).
        let victim = try await store.put("victim", bytes: interopObjectBytes(ObjectStore.defaultChunkSize, seed: 3))
        let sequence = try await js.getLastMessage(stream: store.streamName, subject: ObjectStore.chunkSubject(bucket: bucket, nuid: victim.nuid)).sequence
        try await js.deleteMessage(stream: store.streamName, sequence: sequence)
        try await js.publish(interopObjectBytes(ObjectStore.defaultChunkSize, seed: 4), to: ObjectStore.chunkSubject(bucket: bucket, nuid: victim.nuid))
        let corrupt = try await python(["get", url, bucket, "victim", dir.appendingPathComponent("victim").path])
        #expect(corrupt.status == 5, "nats-py must refuse the corrupt object: \(corrupt.status) \(corrupt.stderr)")

        try await js.deleteObjectStore(bucket)
        await client.close()
    }

    @Test func natsPyPutsTributaryGets() async throws {
        let url = try BrokerEnvironment.natsURL()
        let client = try await NATSClient.connect(url: url)
        let js = try JetStreamContext(client: client)
        let bucket = "PYPUT_\(UInt32.random(in: 0...UInt32.max))"
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }

        let cases: [(String, [UInt8])] = [
            ("py/multi chunk.bin", interopObjectBytes(3 * ObjectStore.defaultChunkSize + 7, seed: 5)),
            ("py-small", Array("hello from python".utf8)),
            ("py-empty", []),
        ]
        for (name, data) in cases {
            let file = dir.appendingPathComponent(UUID().uuidString)
            try Data(data).write(to: file)
            let result = try await python(["put", url, bucket, name, file.path])
            #expect(result.status == 0, "nats-py put of '\(name)' failed (\(result.status)): \(result.stderr)")
            let store = try await js.objectStore(bucket)
            let info = try await store.info(name)
            #expect(info.size == UInt64(data.count) && info.chunks == UInt64(result.json["chunks"] as? Int ?? -1), "\(name)")
            #expect(info.digest == result.json["digest"] as? String && info.digest == ObjectDigest(of: data).text, "\(name)")
            #expect(info.nuid == result.json["nuid"] as? String)
            #expect(try await store.getBytes(name) == data, "\(name)")
            let out = dir.appendingPathComponent(UUID().uuidString).path
            try await store.get(name, toFile: out)
            #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data(data))
        }
        // Replacing a nats-py object from Swift purges nats-py's chunks.
        let store = try await js.objectStore(bucket)
        let old = try await store.info("py/multi chunk.bin")
        _ = try await store.put("py/multi chunk.bin", string: "replaced")
        let chunks = try await js.streamInfo(store.streamName, subjectsFilter: ObjectStore.chunkSubject(bucket: bucket, nuid: old.nuid))
        #expect(chunks.state.subjects?.isEmpty ?? true)
        #expect(try await store.list().map(\.name) == ["py-empty", "py-small", "py/multi chunk.bin"])
        try await js.deleteObjectStore(bucket)
        await client.close()
    }
}
