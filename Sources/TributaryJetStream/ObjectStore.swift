#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TributaryNATS
import TributaryWire

/// An object store bucket (ADR-20): objects of any size kept as chunks in the stream `OBJ_<bucket>`.
///
/// An object's data goes on `$O.<bucket>.C.<nuid>` in chunks (128 KiB by default) and its
/// record (``ObjectInfo``, JSON) on `$O.<bucket>.M.<base64url(name)>`, published with
/// `Nats-Rollup: sub` so only the newest record per name stays. The layout, JSON and digest
/// match nats.go and nats-py, so each reads what the others write.
///
/// Get one from ``JetStreamContext/createObjectStore(_:)`` or ``JetStreamContext/objectStore(_:)``.
/// All methods may be called from any task.
public final class ObjectStore: Sendable {
    /// Default chunk size: 128 KiB (like nats.go).
    public static let defaultChunkSize = 128 * 1024
    /// Default bytes of chunks a put keeps unacknowledged, and a get keeps requested: 8 MiB.
    /// With the chunk being filled, this bounds a put's or get's memory.
    public static let defaultWindowBytes = 8 * 1024 * 1024
    /// Longest object name accepted, in UTF-8 bytes: 1,024.
    public static let maxObjectNameBytes = 1024

    /// The bucket name.
    public let bucket: String
    /// The backing stream, `OBJ_<bucket>`.
    public let streamName: String
    /// The JetStream context used.
    public let context: JetStreamContext
    /// Bytes of chunks in flight per put or get. Default ``defaultWindowBytes``.
    public let windowBytes: Int

    init(context: JetStreamContext, bucket: String, windowBytes: Int = ObjectStore.defaultWindowBytes) {
        self.context = context
        self.bucket = bucket
        self.streamName = Self.streamName(bucket: bucket)
        self.windowBytes = windowBytes
    }

    // MARK: Names and subjects

    /// The stream of a bucket: `OBJ_<bucket>`.
    public static func streamName(bucket: String) -> String { "OBJ_" + bucket }
    /// All chunk subjects of a bucket: `$O.<bucket>.C.>`.
    public static func allChunksSubject(bucket: String) -> String { "$O.\(bucket).C.>" }
    /// All record subjects of a bucket: `$O.<bucket>.M.>`.
    public static func allMetaSubject(bucket: String) -> String { "$O.\(bucket).M.>" }
    /// The chunk subject of one stored version of an object: `$O.<bucket>.C.<nuid>`.
    public static func chunkSubject(bucket: String, nuid: String) -> String { "$O.\(bucket).C.\(nuid)" }
    /// The record subject of an object: `$O.<bucket>.M.<base64url(name)>`, padded like nats.go
    /// and nats-py (the subject must match theirs byte for byte).
    public static func metaSubject(bucket: String, name: String) -> String {
        "$O.\(bucket).M." + Base64URL.encode(Array(name.utf8), padding: true)
    }

    /// Checks a bucket name: letters, digits, `_` and `-`, not empty (like nats.go).
    /// - Throws: `.invalidObjectName` saying what is wrong.
    public static func validateBucketName(_ bucket: String) throws(JetStreamError) {
        guard !bucket.isEmpty else {
            throw JetStreamError(.invalidObjectName, "the object store bucket name is empty; use letters, digits, '_' and '-'")
        }
        let ok = bucket.utf8.allSatisfy { c in
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_") || c == UInt8(ascii: "-")
        }
        guard ok else {
            throw JetStreamError(.invalidObjectName, "object store bucket name '\(bucket)' is not valid; use only letters, digits, '_' and '-'")
        }
    }

    /// Checks an object name: not empty, at most ``maxObjectNameBytes`` UTF-8 bytes, no control
    /// characters (U+0000–U+001F, U+007F). Any other text is allowed: the record subject
    /// carries the name base64url-encoded.
    /// - Throws: `.invalidObjectName` saying what is wrong.
    public static func validateObjectName(_ name: String) throws(JetStreamError) {
        guard !name.isEmpty else {
            throw JetStreamError(.invalidObjectName, "the object name is empty; give the object a name")
        }
        let length = name.utf8.count
        guard length <= maxObjectNameBytes else {
            throw JetStreamError(.invalidObjectName, "the object name is \(length) bytes long; the limit is \(maxObjectNameBytes) UTF-8 bytes")
        }
        if let bad = name.unicodeScalars.first(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw JetStreamError(.invalidObjectName, "the object name contains the control character U+\(String(bad.value, radix: 16, uppercase: true)); remove control characters from the name")
        }
    }

    /// A new chunk-subject token: 22 random base-62 characters, like a NUID.
    static func newNUID() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 22)
        for index in bytes.indices { bytes[index] = alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Turns "stream not found" into "bucket not found".
    func bucketError(_ error: JetStreamError) -> JetStreamError {
        guard error.code == .streamNotFound else { return error }
        return JetStreamError(.bucketNotFound, "object store bucket '\(bucket)' does not exist (no stream '\(streamName)'); create it first",
                              apiSubject: error.apiSubject, stream: streamName, status: error.status, apiErrorCode: error.apiErrorCode,
                              serverDescription: error.serverDescription, underlying: error)
    }

    // MARK: Info

    /// The record of object `name`.
    ///
    /// - Parameter showDeleted: also return a deletion record instead of failing.
    /// - Throws: `.objectNotFound` (also for a deleted object without `showDeleted`),
    ///   `.bucketNotFound`, `.invalidObjectName`, `.badObjectInfo`.
    public func info(_ name: String, showDeleted: Bool = false) async throws(JetStreamError) -> ObjectInfo {
        try Self.validateObjectName(name)
        let subject = Self.metaSubject(bucket: bucket, name: name)
        let stored: JetStreamStoredMessage
        do {
            stored = try await context.getLastMessage(stream: streamName, subject: subject)
        } catch {
            if error.code == .messageNotFound {
                throw JetStreamError(.objectNotFound, "object '\(name)' not found in bucket '\(bucket)'", stream: streamName, underlying: error)
            }
            throw bucketError(error)
        }
        var info = try ObjectInfo.decode(stored.payload, bucket: bucket, subject: subject)
        if info.deleted && !showDeleted {
            throw JetStreamError(.objectNotFound, "object '\(name)' in bucket '\(bucket)' was deleted", stream: streamName)
        }
        info.modified = stored.time
        return info
    }

    /// Stores a record, replacing the previous one for its name (rollup of the subject).
    func publishRecord(_ info: ObjectInfo) async throws(JetStreamError) {
        var headers = NATSHeaders()
        headers.append("sub", for: "Nats-Rollup")
        do {
            try await context.publish(try info.encoded(), to: Self.metaSubject(bucket: bucket, name: info.name), headers: headers)
        } catch {
            throw bucketError(error)
        }
    }

    /// Removes the chunks of one stored version; returns how many were removed.
    @discardableResult
    func purgeChunks(nuid: String) async throws(JetStreamError) -> UInt64 {
        do {
            return try await context.purgeStream(streamName, subject: Self.chunkSubject(bucket: bucket, nuid: nuid))
        } catch {
            throw bucketError(error)
        }
    }

    static func now() -> String {
        Date().formatted(.iso8601)
    }

    // MARK: Delete

    /// Deletes object `name`: stores a deletion record (size 0, no digest), then purges the chunks.
    ///
    /// Deleting a deleted object stores the record again and succeeds.
    /// - Throws: `.objectNotFound` when there never was such an object, `.bucketNotFound`,
    ///   `.badObjectInfo` when the record has no chunk token.
    public func delete(_ name: String) async throws(JetStreamError) {
        var info = try await info(name, showDeleted: true)
        guard !info.nuid.isEmpty else {
            throw JetStreamError(.badObjectInfo, "the record of object '\(name)' in bucket '\(bucket)' has no nuid, so its chunks cannot be found", stream: streamName)
        }
        info.deleted = true
        info.size = 0
        info.chunks = 0
        info.digest = nil
        try await publishRecord(info)
        if !info.isLink { try await purgeChunks(nuid: info.nuid) }
    }

    // MARK: Links

    /// Adds (or replaces) `name` as a link to the object `target` (in this or another bucket).
    ///
    /// - Throws: `.objectIsLink` when `target` is a link; `.objectNotFound` when it is deleted;
    ///   `.objectExists` when `name` is an object that is not a link and not deleted.
    @discardableResult
    public func addLink(_ name: String, to target: ObjectInfo) async throws(JetStreamError) -> ObjectInfo {
        try Self.validateObjectName(name)
        try Self.validateObjectName(target.name)
        if target.deleted {
            throw JetStreamError(.objectNotFound, "object '\(target.name)' in bucket '\(target.bucket)' is deleted; a link must point to a live object", stream: streamName)
        }
        if target.isLink {
            throw JetStreamError(.objectIsLink, "object '\(target.name)' in bucket '\(target.bucket)' is itself a link; link to the object it points to", stream: streamName)
        }
        return try await storeLink(name, link: ObjectLink(bucket: target.bucket, name: target.name))
    }

    /// Adds (or replaces) `name` as a link to the whole bucket `targetBucket`.
    ///
    /// - Throws: `.invalidObjectName` for a bad bucket name; `.objectExists` as for ``addLink(_:to:)``.
    @discardableResult
    public func addBucketLink(_ name: String, to targetBucket: String) async throws(JetStreamError) -> ObjectInfo {
        try Self.validateObjectName(name)
        try Self.validateBucketName(targetBucket)
        return try await storeLink(name, link: ObjectLink(bucket: targetBucket))
    }

    private func storeLink(_ name: String, link: ObjectLink) async throws(JetStreamError) -> ObjectInfo {
        do throws(JetStreamError) {
            let existing = try await info(name, showDeleted: true)
            if !existing.isLink && !existing.deleted {
                throw JetStreamError(.objectExists, "'\(name)' in bucket '\(bucket)' is an object, not a link; delete it first or choose another name", stream: streamName)
            }
        } catch {
            if error.code != .objectNotFound { throw error }
        }
        var info = ObjectInfo(meta: ObjectMeta(name: name, options: ObjectMetaOptions(link: link)), bucket: bucket, nuid: Self.newNUID())
        try await publishRecord(info)
        info.modified = Self.now()
        return info
    }

    // MARK: Metadata

    /// Changes an object's name, description, headers and metadata, like nats.go's `UpdateMeta`.
    ///
    /// The data, digest and options (chunk size, link) stay. A new name moves the record: it is
    /// stored under the new name, then the old name's record is purged.
    /// - Throws: `.objectNotFound` when `name` does not exist or is deleted; `.objectExists`
    ///   when `meta.name` is another live object; `.invalidObjectName`.
    public func updateMeta(_ name: String, meta: ObjectMeta) async throws(JetStreamError) {
        try Self.validateObjectName(meta.name)
        var info = try await info(name)
        if meta.name != name {
            do throws(JetStreamError) {
                let existing = try await self.info(meta.name, showDeleted: true)
                if !existing.deleted {
                    throw JetStreamError(.objectExists, "cannot rename '\(name)' to '\(meta.name)' in bucket '\(bucket)': an object of that name exists; delete it first", stream: streamName)
                }
            } catch {
                if error.code != .objectNotFound { throw error }
            }
        }
        info.name = meta.name
        info.description = meta.description
        info.headers = meta.headers
        info.metadata = meta.metadata
        try await publishRecord(info)
        if meta.name != name {
            do {
                try await context.purgeStream(streamName, subject: Self.metaSubject(bucket: bucket, name: name))
            } catch {
                throw bucketError(error)
            }
        }
    }

    // MARK: Bucket

    /// Seals the bucket: no further puts, deletes or updates (the stream becomes read-only).
    /// - Throws: `.bucketNotFound`, `.apiError` when the server refuses.
    public func seal() async throws(JetStreamError) {
        do {
            var config = try await context.streamInfo(streamName).config
            config.sealed = true
            try await context.updateStream(config)
        } catch {
            throw bucketError(error)
        }
    }

    /// The bucket's status.
    /// - Throws: `.bucketNotFound`.
    public func status() async throws(JetStreamError) -> ObjectStoreStatus {
        do {
            return ObjectStoreStatus(streamInfo: try await context.streamInfo(streamName))
        } catch {
            throw bucketError(error)
        }
    }
}
