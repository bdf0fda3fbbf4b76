import Foundation
import Testing
@testable import TributaryJetStream

@Suite("Object store pure logic: chunking, digest text, names, record JSON")
struct ObjectStoreTests {
    // MARK: Chunking

    @Test func chunkerCutsExactChunksWhateverTheInputSizes() {
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        for pieces in [[1], [99], [100], [101], [333, 1, 250], [1000]] {
            var chunker = ObjectStore.Chunker(chunkSize: 100)
            var chunks: [[UInt8]] = []
            var offset = 0
            var turn = 0
            while offset < data.count {
                let end = min(offset + pieces[turn % pieces.count], data.count)
                chunks += chunker.append(data[offset..<end])
                offset = end
                turn += 1
            }
            if let last = chunker.finish() { chunks.append(last) }
            #expect(chunks.count == 10, "pieces \(pieces)")
            #expect(chunks.allSatisfy { $0.count == 100 })
            #expect(chunks.flatMap { $0 } == data)
            #expect(chunker.size == 1000 && chunker.chunks == 10)
            #expect(chunker.digest() == ObjectDigest(of: data).text)
        }
    }

    @Test func chunkerLeavesAShortLastChunkAndNothingForEmptyInput() {
        var chunker = ObjectStore.Chunker(chunkSize: 64)
        #expect(chunker.append([UInt8](repeating: 1, count: 130)).map(\.count) == [64, 64])
        #expect(chunker.finish()?.count == 2)
        #expect(chunker.chunks == 3 && chunker.size == 130)
        var empty = ObjectStore.Chunker(chunkSize: 64)
        #expect(empty.finish() == nil)
        #expect(empty.digest() == "SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=")
    }

    // MARK: Digest text

    @Test func digestTextIsPaddedBase64URLAndParsesBothWays() throws {
        // SHA-256("abc") = ba7816bf… ; its padded base64url form.
        let abc = ObjectDigest(of: Array("abc".utf8))
        #expect(abc.text == "SHA-256=ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0=")
        #expect(ObjectDigest(text: abc.text) == abc)
        #expect(ObjectDigest(text: "SHA-256=ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0") == abc, "unpadded is accepted")
        #expect(ObjectDigest(text: "sha-256=ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0=") == abc, "prefix in any case")
        #expect(ObjectDigest(text: "SHA-512=ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0=") == nil)
        #expect(ObjectDigest(text: "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0") == nil)
        #expect(ObjectDigest(text: "SHA-256=AAAA") == nil, "not 32 bytes")
        #expect(ObjectDigest(text: "SHA-256=ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=") == nil, "standard alphabet")
    }

    @Test func verifierChecksCountSizeAndDigest() throws {
        let data: [UInt8] = Array(0..<200)
        let info = ObjectInfo(meta: ObjectMeta(name: "x"), bucket: "b", nuid: "n", size: 200, chunks: 2, digest: ObjectDigest(of: data).text)
        var good = try ObjectDataVerifier(info: info)
        try good.received(Array(data[0..<100]))
        #expect(!good.isComplete)
        try good.received(Array(data[100...]))
        #expect(good.isComplete)
        try good.finish()

        var corrupt = try ObjectDataVerifier(info: info)
        try corrupt.received(Array(data[0..<100]))
        try corrupt.received(Array(data[100...]).reversed())
        #expect(throws: JetStreamError.self) { try corrupt.finish() }
        do {
            try corrupt.finish()
        } catch let error {
            #expect(error.code == .digestMismatch)
        }

        var short = try ObjectDataVerifier(info: info)
        try short.received(Array(data[0..<100]))
        do {
            try short.finish()
            Issue.record("a missing chunk must fail")
        } catch let error {
            #expect(error.code == .objectSizeMismatch)
        }

        var long = try ObjectDataVerifier(info: info)
        do {
            try long.received(data + [1])
            Issue.record("more bytes than the size must fail")
        } catch let error {
            #expect(error.code == .objectSizeMismatch)
        }

        var badDigest = info
        badDigest.digest = "MD5=abc"
        do {
            _ = try ObjectDataVerifier(info: badDigest)
            Issue.record("a malformed digest must fail")
        } catch let error {
            #expect(error.code == .badObjectInfo)
        }
    }

    // MARK: Names and subjects

    @Test func subjectsFollowADR20AndPadLikeNatsGo() {
        #expect(ObjectStore.streamName(bucket: "docs") == "OBJ_docs")
        #expect(ObjectStore.allChunksSubject(bucket: "docs") == "$O.docs.C.>")
        #expect(ObjectStore.allMetaSubject(bucket: "docs") == "$O.docs.M.>")
        #expect(ObjectStore.chunkSubject(bucket: "docs", nuid: "N1") == "$O.docs.C.N1")
        // Go: base64.URLEncoding.EncodeToString([]byte("f")) == "Zg=="; Python urlsafe_b64encode too.
        #expect(ObjectStore.metaSubject(bucket: "docs", name: "f") == "$O.docs.M.Zg==")
        #expect(ObjectStore.metaSubject(bucket: "docs", name: "a/b?") == "$O.docs.M.YS9iPw==")
        #expect(ObjectStore.metaSubject(bucket: "docs", name: "\u{FB}\u{FF}") == "$O.docs.M.w7vDvw==")
        #expect(ObjectStore.newNUID().count == 22)
    }

    @Test func objectAndBucketNamesAreValidated() {
        for good in ["a", "a b", "dir/file.txt", "*", ">", "ü", String(repeating: "x", count: 1024)] {
            #expect(throws: Never.self) { try ObjectStore.validateObjectName(good) }
        }
        for bad in ["", "a\nb", "\u{7F}", "\u{0}", String(repeating: "x", count: 1025)] {
            do {
                try ObjectStore.validateObjectName(bad)
                Issue.record("'\(bad.prefix(8))' must be refused")
            } catch let error {
                #expect(error.code == .invalidObjectName)
                #expect(!error.message.isEmpty)
            }
        }
        for good in ["a", "A-b_9"] {
            #expect(throws: Never.self) { try ObjectStore.validateBucketName(good) }
        }
        for bad in ["", "a.b", "a b", "a*", "a>", "ü"] {
            #expect(throws: JetStreamError.self) { try ObjectStore.validateBucketName(bad) }
        }
    }

    @Test func bucketConfigBecomesTheADR20Stream() {
        var config = ObjectStoreConfig(bucket: "b")
        var stream = config.streamConfig
        #expect(stream.name == "OBJ_b" && stream.subjects == ["$O.b.C.>", "$O.b.M.>"])
        #expect(stream.allowRollup == true && stream.allowDirect == true && stream.discard == .new)
        #expect(stream.maxBytes == -1 && stream.maxAge == .zero && stream.replicas == 1 && stream.storage == .file)
        config.ttl = .seconds(60)
        config.maxBytes = 1000
        config.storage = .memory
        stream = config.streamConfig
        #expect(stream.maxAge == .seconds(60) && stream.maxBytes == 1000 && stream.storage == .memory)
    }

    // MARK: Record JSON

    @Test func decodesARecordAsNatsGoWritesIt() throws {
        // Field set and omissions of nats.go's ObjectInfo (mtime is the zero time; the real one
        // is the stored message's).
        let json = #"{"name":"report.pdf","description":"q3","headers":{"Content-Type":["application/pdf"]},"metadata":{"k":"v"},"options":{"max_chunk_size":131072},"bucket":"docs","nuid":"ABCDEFGHIJKLMNOPQRSTUV","size":300000,"mtime":"0001-01-01T00:00:00Z","chunks":3,"digest":"SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU="}"#
        let info = try ObjectInfo.decode(Array(json.utf8), bucket: "docs")
        #expect(info.name == "report.pdf" && info.description == "q3")
        #expect(info.headers == ["Content-Type": ["application/pdf"]] && info.metadata == ["k": "v"])
        #expect(info.options?.maxChunkSize == 131_072 && info.link == nil)
        #expect(info.bucket == "docs" && info.nuid == "ABCDEFGHIJKLMNOPQRSTUV")
        #expect(info.size == 300_000 && info.chunks == 3 && info.deleted == false)
        #expect(info.modified == nil, "the zero time means unknown")
        #expect(info.digest == "SHA-256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU=")
    }

    @Test func decodesLinksDeletionsAndPythonRecords() throws {
        let link = #"{"name":"l","options":{"link":{"bucket":"other","name":"target"}},"bucket":"b","nuid":"N","size":0,"mtime":"0001-01-01T00:00:00Z","chunks":0}"#
        let decodedLink = try ObjectInfo.decode(Array(link.utf8), bucket: "b")
        #expect(decodedLink.link == ObjectLink(bucket: "other", name: "target") && decodedLink.isLink)
        let bucketLink = #"{"name":"l","options":{"link":{"bucket":"other"}},"bucket":"b","nuid":"N","size":0,"chunks":0}"#
        #expect(try ObjectInfo.decode(Array(bucketLink.utf8), bucket: "b").link?.isBucketLink == true)
        let deleted = #"{"name":"d","bucket":"b","nuid":"N","size":0,"mtime":"","chunks":0,"deleted":true}"#
        #expect(try ObjectInfo.decode(Array(deleted.utf8), bucket: "b").deleted)
        // nats-py writes an ISO time, null for absent fields and "headers": null.
        let python = #"{"name":"p","description":null,"headers":null,"options":{"link":null,"max_chunk_size":131072},"bucket":"b","nuid":"N","size":5,"mtime":"2026-01-01T00:00:00.123456+00:00","chunks":1,"digest":"SHA-256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=","deleted":false}"#
        let fromPython = try ObjectInfo.decode(Array(python.utf8), bucket: "b")
        #expect(fromPython.modified == "2026-01-01T00:00:00.123456+00:00" && fromPython.size == 5 && !fromPython.isLink)
    }

    @Test func badRecordsAreTypedErrors() {
        for bad in ["", "{", "[]", #"{"bucket":"b"}"#, #"{"name":"x","size":-1}"#, #"{"name":"x","chunks":"3"}"#] {
            do {
                _ = try ObjectInfo.decode(Array(bad.utf8), bucket: "b", subject: "$O.b.M.eA==")
                Issue.record("'\(bad)' must not decode")
            } catch let error {
                #expect(error.code == .badObjectInfo)
                #expect(error.message.contains("$O.b.M.eA=="))
            }
        }
    }

    @Test func encodesLikeNatsGoAndRoundTrips() throws {
        let info = ObjectInfo(meta: ObjectMeta(name: "n", options: ObjectMetaOptions(maxChunkSize: 131_072)), bucket: "b", nuid: "N",
                              size: 3, chunks: 1, digest: "SHA-256=x")
        let text = String(decoding: try info.encoded(), as: UTF8.self)
        #expect(text == #"{"bucket":"b","chunks":1,"digest":"SHA-256=x","mtime":"0001-01-01T00:00:00Z","name":"n","nuid":"N","options":{"max_chunk_size":131072},"size":3}"#)
        var deleted = info
        deleted.deleted = true
        deleted.digest = nil
        deleted.description = "d"
        deleted.metadata = [:]
        let again = try ObjectInfo.decode(try deleted.encoded(), bucket: "b")
        #expect(again.deleted && again.digest == nil && again.description == "d" && again.metadata == nil)
    }
}
