import Foundation
import Testing
import TributaryJetStream
import TributaryNATS
import TributaryTestSupport

/// Deterministic bytes of a given length (not all equal, so chunk order matters to the digest).
func objectTestBytes(_ count: Int, seed: UInt32 = 1) -> [UInt8] {
    var state = seed | 1
    return (0..<count).map { _ in
        state ^= state << 13; state ^= state >> 17; state ^= state << 5
        return UInt8(truncatingIfNeeded: state)
    }
}

/// An AsyncSequence of byte arrays of uneven sizes.
struct UnevenChunks: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let data: [UInt8]
    let sizes: [Int]

    struct AsyncIterator: AsyncIteratorProtocol {
        let data: [UInt8]
        let sizes: [Int]
        var offset = 0
        var turn = 0
        mutating func next() async -> [UInt8]? {
            guard offset < data.count else { return nil }
            let size = sizes[turn % sizes.count]
            turn += 1
            let end = Swift.min(offset + size, data.count)
            defer { offset = end }
            return Array(data[offset..<end])
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(data: data, sizes: sizes) }
}

struct FailingSource: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    struct Boom: Error {}
    struct AsyncIterator: AsyncIteratorProtocol {
        var sent = false
        mutating func next() async throws -> [UInt8]? {
            if sent { throw Boom() }
            sent = true
            return [UInt8](repeating: 7, count: 300)
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator() }
}

@Suite("Object store (ADR-20) against a real nats-server")
struct ObjectStoreConformanceTests {
    @Test func bucketCreateStatusListDelete() async throws {
        let (client, js) = try await connectJetStream()
        let bucket = uniqueBucket("OBJB")
        var config = ObjectStoreConfig(bucket: bucket)
        config.description = "test bucket"
        config.ttl = .seconds(3600)
        config.maxBytes = 10 * 1024 * 1024
        config.storage = .memory
        config.metadata = ["team": "storage"]
        let store = try await js.createObjectStore(config)
        #expect(store.streamName == "OBJ_\(bucket)")

        let stream = try await js.streamInfo("OBJ_\(bucket)")
        #expect(stream.config.subjects == ["$O.\(bucket).C.>", "$O.\(bucket).M.>"])
        #expect(stream.config.allowRollup == true)
        #expect(stream.config.allowDirect == true)
        #expect(stream.config.discard == .new)
        #expect(stream.config.maxBytes == Int64(10 * 1024 * 1024))

        let status = try await store.status()
        #expect(status.bucket == bucket)
        #expect(status.description == "test bucket")
        #expect(status.ttl == .seconds(3600))
        #expect(status.storage == .memory)
        #expect(status.replicas == 1)
        #expect(status.sealed == false)
        #expect(status.metadata["team"] == "storage")
        #expect(status.backingStore == "JetStream")

        // Same settings again: fine. Bind by name.
        _ = try await js.createObjectStore(config)
        _ = try await js.objectStore(bucket)
        #expect(try await js.objectStoreNames().contains(bucket))
        #expect(try await js.objectStores().contains { $0.bucket == bucket && $0.description == "test bucket" })

        try await js.deleteObjectStore(bucket)
        let missing = await #expect(throws: JetStreamError.self) { try await js.objectStore(bucket) }
        #expect(missing?.code == .bucketNotFound)
        let missingDelete = await #expect(throws: JetStreamError.self) { try await js.deleteObjectStore(bucket) }
        #expect(missingDelete?.code == .bucketNotFound)
        #expect(try await js.objectStoreNames().contains(bucket) == false)
        let bad = await #expect(throws: JetStreamError.self) { try await js.createObjectStore(ObjectStoreConfig(bucket: "bad.name")) }
        #expect(bad?.code == .invalidObjectName)
        await client.close()
    }

    @Test func multiChunkPutGetWithLayoutDigestAndInfo() async throws {
        let (client, js) = try await connectJetStream()
        let bucket = uniqueBucket("OBJM")
        let store = try await js.createObjectStore(ObjectStoreConfig(bucket: bucket))
        let data = objectTestBytes(3 * ObjectStore.defaultChunkSize + 1234)
        let put = try await store.put(ObjectMeta(name: "dir/file one.bin", description: "three chunks and a bit",
                                                 headers: ["Content-Type": ["application/octet-stream"]], metadata: ["k": "v"]),
                                      data: UnevenChunks(data: data, sizes: [1, 70_000, 200_000, 5]))
        #expect(put.chunks == 4)
        #expect(put.size == UInt64(data.count))
        #expect(put.digest == ObjectDigest(of: data).text)
        #expect(put.digest?.hasPrefix("SHA-256=") == true && put.digest?.count == 52)
        #expect(put.options?.maxChunkSize == ObjectStore.defaultChunkSize)

        // The stream layout: four chunks on the chunk subject, one record (with rollup) on the meta subject.
        let chunkSubject = ObjectStore.chunkSubject(bucket: bucket, nuid: put.nuid)
        let stream = try await js.streamInfo(store.streamName, subjectsFilter: ">")
        #expect(stream.state.subjects?[chunkSubject] == 4)
        let metaSubject = "$O.\(bucket).M." + Data("dir/file one.bin".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        #expect(stream.state.subjects?[metaSubject] == 1)
        let record = try await js.getLastMessage(stream: store.streamName, subject: metaSubject)
        #expect(record.headers?["Nats-Rollup"] == "sub")
        let firstChunk = try await js.getMessage(stream: store.streamName, sequence: stream.state.firstSeq)
        #expect(firstChunk.payload.count == ObjectStore.defaultChunkSize)

        let info = try await store.info("dir/file one.bin")
        #expect(info.name == "dir/file one.bin" && info.description == "three chunks and a bit")
        #expect(info.headers?["Content-Type"] == ["application/octet-stream"] && info.metadata?["k"] == "v")
        #expect(info.bucket == bucket && info.nuid == put.nuid && info.deleted == false)
        #expect(info.modified != nil)

        var got: [UInt8] = []
        var pieces = 0
        for try await chunk in try await store.get("dir/file one.bin") {
            got += chunk
            pieces += 1
        }
        #expect(got == data)
        #expect(pieces == 4)
        #expect(try await store.getBytes("dir/file one.bin") == data)
        try await js.deleteObjectStore(bucket)
        await client.close()
    }

    @Test func emptyObjectAndSmallChunkSize() async throws {
        let (client, js) = try await connectJetStream()
        let bucket = uniqueBucket("OBJE")
        let store = try await js.createObjectStore(ObjectStoreConfig(bucket: bucket))
        let empty = try await store.put("empty", bytes: [])
        #expect(empty.size == 0 && empty.chunks == 0)
        #expect(empty.digest == "SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=")
        #expect(try await store.getBytes("empty") == [])
        #expect(try await store.info("empty").size == 0)

        let data = objectTestBytes(1000, seed: 9)
        let small = try await store.put(ObjectMeta(name: "small", options: ObjectMetaOptions(maxChunkSize: 100)), bytes: data)
        #expect(small.chunks == 10 && small.options?.maxChunkSize == 100)
        #expect(try await store.getBytes("small") == data)
        let tooBig = await #expect(throws: JetStreamError.self) {
            try await store.put(ObjectMeta(name: "big", options: ObjectMetaOptions(maxChunkSize: 64 * 1024 * 1024)), bytes: data)
        }
        #expect(tooBig?.code == .invalidArgument)
        try await js.deleteObjectStore(bucket)
        await client.close()
    }

    @Test func replacePurgesOldChunksAfterNewRecord() async throws {
        let (client, js) = try await connectJetStream()
        let bucket = uniqueBucket("OBJR")
        let store = try await js.createObjectStore(ObjectStoreConfig(bucket: bucket))
        let first = try await store.put("doc", bytes: objectTestBytes(300_000, seed: 1))
        let secondData = objectTestBytes(200_000, seed: 2)
        let second = try await store.put("doc", bytes: secondData)
        #expect(first.nuid != second.nuid)
        let stream = try await js.streamInfo(store.streamName, subjectsFilter: ">")
        #expect(stream.state.subjects?[ObjectStore.chunkSubject(bucket: bucket, nuid: first.nuid)] == nil)
        #expect(stream.state.subjects?[ObjectStore.chunkSubject(bucket: bucket, nuid: second.nuid)] == 2)
        #expect(try await store.getBytes("doc") == secondData)
        #expect(try await store.list().map(\.name) == ["doc"])

        // A failing source stores nothing and keeps the previous version.
        let failed = await #expect(throws: JetStreamError.self) { try await store.put(ObjectMeta(name: "doc"), data: FailingSource()) }
        #expect(failed?.code == .objectSourceFailed)
        #expect(try await store.getBytes("doc") == secondData)
        let after = try await js.streamInfo(store.streamName, subjectsFilter: "$O.\(bucket).C.>")
        #expect(after.state.subjects?.count == 1)
        try await js.deleteObjectStore(bucket)
        await client.close()
    }

    @Test func deleteMarksRecordAndPurgesChunks() async throws {
        let (client, js) = try await connectJetStream()
        let bucket = uniqueBucket("OBJD")
        let store = try await js.createObjectStore(ObjectStoreConfig(bucket: bucket))
        let put = try await store.put("gone", bytes: objectTestBytes(150_000))
        try await store.delete("gone")
        let notFound = await #expect(throws: JetStreamError.self) { try await store.info("gone") }
        #expect(notFound?.code == .objectNotFound)
        let getGone = await #expect(throws: JetStreamError.self) { try await store.get("gone") }
        #expect(getGone?.code == .objectNotFound)
        let deleted = try await store.info("gone", showDeleted: true)
        #expect(deleted.deleted && deleted.size == 0 && deleted.chunks == 0 && deleted.digest == nil)
        let stream = try await js.streamInfo(store.streamName, subjectsFilter: "$O.\(bucket).C.>")
        #expect(stream.state.subjects?[ObjectStore.chunkSubject(bucket: bucket, nuid: put.nuid)] == nil)
        #expect(try await store.list().isEmpty)
        #expect(try await store.list(showDeleted: true).map(\.name) == ["gone"])
        let never = await #expect(throws: JetStreamError.self) { try await store.delete("never") }
        #expect(never?.code == .objectNotFound)
        try await js.deleteObjectStore(bucket)
        await client.close()
    }

    @Test func linksToObjectsAndBuckets() async throws {
        let (client, js) = try await connectJetStream()
        let bucket = uniqueBucket("OBJL")
        let other = uniqueBucket("OBJL2")
        let store = try await js.createObjectStore(ObjectStoreConfig(bucket: bucket))
        let otherStore = try await js.createObjectStore(ObjectStoreConfig(bucket: other))
        let data = objectTestBytes(140_000, seed: 5)
        let target = try await otherStore.put("target", bytes: data)
        let link = try await store.addLink("shortcut", to: target)
        #expect(link.link == ObjectLink(bucket: other, name: "target"))
        #expect(try await store.info("shortcut").isLink)
        let reader = try await store.get("shortcut")
        #expect(reader.info.name == "target" && reader.info.bucket == other)
        var got: [UInt8] = []
        for try await chunk in reader { got += chunk }
        #expect(got == data)

        let bucketLink = try await store.addBucketLink("all-of-other", to: other)
        #expect(bucketLink.link?.isBucketLink == true)
        let cannot = await #expect(throws: JetStreamError.self) { try await store.get("all-of-other") }
        #expect(cannot?.code == .objectIsLink)
        let linkToLink = await #expect(throws: JetStreamError.self) { try await store.addLink("again", to: link) }
        #expect(linkToLink?.code == .objectIsLink)
        _ = try await store.put("real", string: "data")
        let occupied = await #expect(throws: JetStreamError.self) { try await store.addLink("real", to: target) }
        #expect(occupied?.code == .objectExists)
        // Replacing a link with a link is allowed.
        _ = try await store.addLink("shortcut", to: try await store.info("real"))
        #expect(try await store.getString("shortcut") == "data")
        try await otherStore.delete("target")
        let deadTarget = await #expect(throws: JetStreamError.self) {
            try await store.addLink("dead", to: try await otherStore.info("target", showDeleted: true))
        }
        #expect(deadTarget?.code == .objectNotFound)
        #expect(try await store.list().map(\.name) == ["all-of-other", "real", "shortcut"])
        try await js.deleteObjectStore(bucket)
        try await js.deleteObjectStore(other)
        await client.close()
    }

    @Test func updateMetaAndRename() async throws {
        let (client, js) = try await connectJetStream()
        let bucket = uniqueBucket("OBJU")
        let store = try await js.createObjectStore(ObjectStoreConfig(bucket: bucket))
        let data = objectTestBytes(200_000, seed: 3)
        let put = try await store.put("old", bytes: data)
        try await store.updateMeta("old", meta: ObjectMeta(name: "old", description: "described", metadata: ["a": "b"]))
        let described = try await store.info("old")
        #expect(described.description == "described" && described.metadata == ["a": "b"])
        #expect(described.digest == put.digest && described.nuid == put.nuid)

        try await store.updateMeta("old", meta: ObjectMeta(name: "new", description: "renamed"))
        let gone = await #expect(throws: JetStreamError.self) { try await store.info("old", showDeleted: true) }
        #expect(gone?.code == .objectNotFound)
        let renamed = try await store.info("new")
        #expect(renamed.description == "renamed" && renamed.nuid == put.nuid && renamed.size == put.size)
        #expect(try await store.getBytes("new") == data)

        _ = try await store.put("taken", string: "x")
        let clash = await #expect(throws: JetStreamError.self) { try await store.updateMeta("new", meta: ObjectMeta(name: "taken")) }
        #expect(clash?.code == .objectExists)
        let missing = await #expect(throws: JetStreamError.self) { try await store.updateMeta("nothing", meta: ObjectMeta(name: "nothing")) }
        #expect(missing?.code == .objectNotFound)
        try await js.deleteObjectStore(bucket)
        await client.close()
    }

    @Test func watchSendsInitialThenMarkerThenChanges() async throws {
        let (client, js) = try await connectJetStream()
        let bucket = uniqueBucket("OBJW")
        let store = try await js.createObjectStore(ObjectStoreConfig(bucket: bucket))

        // Empty bucket: the marker comes first.
        let emptyWatch = try await store.watch()
        var emptyIterator = emptyWatch.makeAsyncIterator()
        #expect(try await emptyIterator.next() == .initialValuesDone)
        await emptyWatch.close()

        _ = try await store.put("a", string: "1")
        _ = try await store.put("b", string: "2")
        _ = try await store.put("a", string: "3")
        let watcher = try await store.watch()
        var iterator = watcher.makeAsyncIterator()
        var initial: [String] = []
        while case .info(let info)? = try await iterator.next() { initial.append(info.name) }
        #expect(initial.sorted() == ["a", "b"])
        _ = try await store.put("c", string: "4")
        guard case .info(let change)? = try await iterator.next() else {
            Issue.record("expected an update after the marker")
            return
        }
        #expect(change.name == "c" && change.size == 1)
        try await store.delete("b")
        guard case .info(let deletion)? = try await iterator.next() else {
            Issue.record("expected the deletion")
            return
        }
        #expect(deletion.name == "b" && deletion.deleted)
        await watcher.close()

        let history = try await store.watch(includeHistory: true, ignoreDeletes: true)
        var names: [String] = []
        for try await event in history {
            guard case .info(let info) = event else { break }
            names.append(info.name)
        }
        #expect(names == ["a", "c"])
        await history.close()
        try await js.deleteObjectStore(bucket)
        await client.close()
    }

    @Test func corruptChunkIsADigestMismatch() async throws {
        let (client, js) = try await connectJetStream()
        let bucket = uniqueBucket("OBJC")
        let store = try await js.createObjectStore(ObjectStoreConfig(bucket: bucket))
        let data = objectTestBytes(2 * ObjectStore.defaultChunkSize, seed: 11)
        let put = try await store.put("victim", bytes: data)
        // Replace the first chunk by one of the same size with other bytes, via raw JetStream calls.
        let chunkSubject = ObjectStore.chunkSubject(bucket: bucket, nuid: put.nuid)
        let first = try await js.streamInfo(store.streamName).state.firstSeq
        try await js.deleteMessage(stream: store.streamName, sequence: first)
        var forged = Array(data[0..<ObjectStore.defaultChunkSize])
        forged[100] ^= 0xFF
        try await js.publish(forged, to: chunkSubject)

        var received = 0
        let error = await #expect(throws: JetStreamError.self) {
            for try await chunk in try await store.get("victim") { received += chunk.count }
        }
        #expect(error?.code == .digestMismatch)
        #expect(received == ObjectStore.defaultChunkSize, "the last chunk is withheld when the digest fails")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("victim-\(UInt32.random(in: 0...UInt32.max))").path
        let fileError = await #expect(throws: JetStreamError.self) { try await store.get("victim", toFile: path) }
        #expect(fileError?.code == .digestMismatch)
        #expect(FileManager.default.fileExists(atPath: path) == false)

        // An extra chunk on the subject: more data than the record says.
        _ = try await store.put("extra", bytes: [1, 2, 3])
        try await js.publish([4, 5, 6], to: ObjectStore.chunkSubject(bucket: bucket, nuid: try await store.info("extra").nuid))
        let extra = await #expect(throws: JetStreamError.self) { _ = try await store.getBytes("extra") }
        #expect(extra?.code == .objectSizeMismatch)
        try await js.deleteObjectStore(bucket)
        await client.close()
    }

    @Test func missingChunkIsASizeMismatch() async throws {
        let (client, js) = try await connectJetStream()
        let bucket = uniqueBucket("OBJS")
        let store = try await js.createObjectStore(ObjectStoreConfig(bucket: bucket))
        let put = try await store.put(ObjectMeta(name: "short", options: ObjectMetaOptions(maxChunkSize: 1000)), bytes: objectTestBytes(3000, seed: 4))
        #expect(put.chunks == 3)
        let last = try await js.streamInfo(store.streamName).state.lastSeq
        // Sequences: chunks 1...3, record 4. Remove the last chunk.
        try await js.deleteMessage(stream: store.streamName, sequence: last - 1)
        let error = await #expect(throws: JetStreamError.self) { _ = try await store.getBytes("short") }
        #expect(error?.code == .objectSizeMismatch)
        try await js.deleteObjectStore(bucket)
        await client.close()
    }

    @Test func namesAreValidatedClientSide() async throws {
        let (client, js) = try await connectJetStream()
        let bucket = uniqueBucket("OBJN")
        let store = try await js.createObjectStore(ObjectStoreConfig(bucket: bucket))
        for bad in ["", "tab\there", "nul\u{0}", String(repeating: "x", count: 1025)] {
            let error = await #expect(throws: JetStreamError.self) { try await store.put(bad, bytes: [1]) }
            #expect(error?.code == .invalidObjectName, "\(bad.prefix(10))")
            let infoError = await #expect(throws: JetStreamError.self) { try await store.info(bad) }
            #expect(infoError?.code == .invalidObjectName)
        }
        // Spaces, dots, slashes, '>' and '*' and non-ASCII are fine: the subject carries base64url.
        for good in ["a b.c/d", "*>", "über.txt", String(repeating: "y", count: 1024)] {
            _ = try await store.put(good, string: good)
            #expect(try await store.getString(good) == good)
        }
        let badLink = await #expect(throws: JetStreamError.self) { try await store.addBucketLink("l", to: "no.dots") }
        #expect(badLink?.code == .invalidObjectName)
        try await js.deleteObjectStore(bucket)
        await client.close()
    }

    @Test func fileRoundTripSealAndMissingBucket() async throws {
        let (client, js) = try await connectJetStream()
        let bucket = uniqueBucket("OBJF")
        let store = try await js.createObjectStore(ObjectStoreConfig(bucket: bucket))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("obj-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = objectTestBytes(5 * ObjectStore.defaultChunkSize + 17, seed: 21)
        let source = dir.appendingPathComponent("in.bin").path
        let target = dir.appendingPathComponent("out.bin").path
        try Data(data).write(to: URL(fileURLWithPath: source))
        let put = try await store.put(ObjectMeta(name: "file"), fileAt: source)
        #expect(put.size == UInt64(data.count) && put.chunks == 6 && put.digest == ObjectDigest(of: data).text)
        let info = try await store.get("file", toFile: target)
        #expect(info.digest == put.digest)
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == Data(data))
        let noFile = await #expect(throws: JetStreamError.self) { try await store.put(ObjectMeta(name: "x"), fileAt: dir.appendingPathComponent("nope").path) }
        #expect(noFile?.code == .objectSourceFailed)

        try await store.seal()
        #expect(try await store.status().sealed)
        await #expect(throws: JetStreamError.self) { try await store.put("after-seal", string: "no") }
        #expect(try await store.getBytes("file") == data)

        try await js.deleteObjectStore(bucket)
        let gone = await #expect(throws: JetStreamError.self) { try await store.info("file") }
        #expect(gone?.code == .bucketNotFound)
        await client.close()
    }
}
