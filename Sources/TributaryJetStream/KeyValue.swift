#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TributaryNATS

/// A key-value bucket (ADR-8): get, put, create, update, delete, purge, keys, history and watch.
///
/// Get one from ``JetStreamContext/createKeyValue(_:)`` or ``JetStreamContext/keyValue(_:)``.
/// All methods are safe to call from any task. Reads use direct get when the bucket's stream
/// allows it and `STREAM.MSG.GET` otherwise (buckets made by nats-py), so both shapes work.
public final class KeyValue: Sendable {
    /// The bucket name.
    public let bucket: String
    /// The context requests go through.
    public let context: JetStreamContext
    /// The stream behind the bucket: `KV_<bucket>`.
    public let streamName: String
    /// The subject prefix of the keys: `$KV.<bucket>.`.
    let prefix: String

    init(bucket: String, context: JetStreamContext) {
        self.bucket = bucket
        self.context = context
        streamName = KeyValueNames.streamName(bucket)
        prefix = KeyValueNames.subjectPrefix(bucket)
    }

    // MARK: Reading

    /// The latest value of `key`.
    ///
    /// - Throws: `.keyNotFound` when the key was never written or its last operation was a
    ///   delete or purge; `.invalidKey`; `.bucketNotFound`; `.jetStream` for other failures.
    public func get(_ key: String) async throws(KeyValueError) -> KeyValueEntry {
        let entry = try await getAny(key, revision: nil)
        guard entry.operation == .put else { throw notFound(key, deleted: true) }
        return entry
    }

    /// The value of `key` at `revision`.
    ///
    /// - Throws: `.keyNotFound` when that revision does not exist, belongs to another key, or
    ///   is a delete or purge marker; `.invalidKey`; `.bucketNotFound`.
    public func get(_ key: String, revision: UInt64) async throws(KeyValueError) -> KeyValueEntry {
        let entry = try await getAny(key, revision: revision)
        guard entry.operation == .put else { throw notFound(key, deleted: true) }
        return entry
    }

    /// The latest entry of `key` whatever its operation (a delete or purge marker included).
    func getAny(_ key: String, revision: UInt64?) async throws(KeyValueError) -> KeyValueEntry {
        try KeyValueNames.validateKey(key, bucket: bucket)
        let stored: JetStreamStoredMessage
        do {
            if let revision {
                stored = try await context.getMessage(stream: streamName, sequence: revision)
            } else {
                stored = try await context.getLastMessage(stream: streamName, subject: prefix + key)
            }
        } catch {
            if error.code == .messageNotFound { throw notFound(key, deleted: false, revision: revision) }
            throw KeyValueError.wrap(error, "get of key '\(key)' in bucket '\(bucket)'", bucket: bucket, key: key)
        }
        let entry = try KeyValueEntry.decode(stored, bucket: bucket)
        if revision != nil, entry.key != key { throw notFound(key, deleted: false, revision: revision) }
        return entry
    }

    private func notFound(_ key: String, deleted: Bool, revision: UInt64? = nil) -> KeyValueError {
        let what = revision.map { "revision \($0) of key '\(key)'" } ?? "key '\(key)'"
        return KeyValueError(.keyNotFound, "\(what) not found in bucket '\(bucket)'\(deleted ? " (deleted)" : ""); put a value first, or check the key", bucket: bucket, key: key)
    }

    // MARK: Writing

    /// Puts a value and returns its revision.
    ///
    /// - Throws: `.invalidKey`; `.bucketNotFound`; `.jetStream` (for example a value above the
    ///   bucket's `maxValueSize`, or a full bucket).
    @discardableResult
    public func put(_ key: String, _ value: [UInt8]) async throws(KeyValueError) -> UInt64 {
        try KeyValueNames.validateKey(key, bucket: bucket)
        return try await publish(key, value, headers: nil, lastRevision: nil, what: "put")
    }

    /// Puts a UTF-8 string. See ``put(_:_:)-([UInt8])``.
    @discardableResult
    public func put(_ key: String, _ value: String) async throws(KeyValueError) -> UInt64 {
        try await put(key, Array(value.utf8))
    }

    /// Puts a value only when the key has none (never written, or last deleted or purged).
    ///
    /// - Returns: the new revision.
    /// - Throws: `.keyExists` when the key holds a value; `.invalidKey`; `.bucketNotFound`.
    @discardableResult
    public func create(_ key: String, _ value: [UInt8]) async throws(KeyValueError) -> UInt64 {
        try KeyValueNames.validateKey(key, bucket: bucket)
        do {
            return try await publish(key, value, headers: nil, lastRevision: 0, what: "create")
        } catch let error {
            guard error.code == .wrongLastRevision else { throw error }
        }
        // The key has entries: a create may follow a delete or purge marker (ADR-8).
        let latest: KeyValueEntry
        do {
            latest = try await getAny(key, revision: nil)
        } catch let error {
            // Gone again in between (purged by age or a purge of the stream): try once more from nothing.
            if error.code == .keyNotFound { return try await createConflictAware(key, value, lastRevision: 0) }
            throw error
        }
        guard latest.operation != .put else {
            throw KeyValueError(.keyExists, "key '\(key)' already has a value in bucket '\(bucket)' (revision \(latest.revision)); use update with that revision, or put",
                                bucket: bucket, key: key)
        }
        return try await createConflictAware(key, value, lastRevision: latest.revision)
    }

    private func createConflictAware(_ key: String, _ value: [UInt8], lastRevision: UInt64) async throws(KeyValueError) -> UInt64 {
        do {
            return try await publish(key, value, headers: nil, lastRevision: lastRevision, what: "create")
        } catch let error {
            guard error.code == .wrongLastRevision else { throw error }
            throw KeyValueError(.keyExists, "key '\(key)' was written by someone else while being created in bucket '\(bucket)'; read it again",
                                bucket: bucket, key: key, underlying: error.underlying)
        }
    }

    /// Creates a UTF-8 string value. See ``create(_:_:)-([UInt8])``.
    @discardableResult
    public func create(_ key: String, _ value: String) async throws(KeyValueError) -> UInt64 {
        try await create(key, Array(value.utf8))
    }

    /// Puts a value only when the key's latest revision is `lastRevision` (compare and set).
    ///
    /// - Returns: the new revision.
    /// - Throws: `.wrongLastRevision` when the key's latest revision is another; `.invalidKey`; `.bucketNotFound`.
    @discardableResult
    public func update(_ key: String, _ value: [UInt8], lastRevision: UInt64) async throws(KeyValueError) -> UInt64 {
        try KeyValueNames.validateKey(key, bucket: bucket)
        return try await publish(key, value, headers: nil, lastRevision: lastRevision, what: "update")
    }

    /// Updates with a UTF-8 string. See ``update(_:_:lastRevision:)-([UInt8],_)``.
    @discardableResult
    public func update(_ key: String, _ value: String, lastRevision: UInt64) async throws(KeyValueError) -> UInt64 {
        try await update(key, Array(value.utf8), lastRevision: lastRevision)
    }

    /// Deletes a key: writes a `KV-Operation: DEL` marker; earlier revisions stay in the history.
    ///
    /// - Parameter lastRevision: only when the key's latest revision is this.
    /// - Returns: the revision of the marker.
    /// - Throws: `.wrongLastRevision`; `.invalidKey`; `.bucketNotFound`.
    @discardableResult
    public func delete(_ key: String, lastRevision: UInt64? = nil) async throws(KeyValueError) -> UInt64 {
        try KeyValueNames.validateKey(key, bucket: bucket)
        return try await publish(key, [], headers: NATSHeaders([(KeyValueEntry.operationHeader, "DEL")]), lastRevision: lastRevision, what: "delete")
    }

    /// Purges a key: writes a `KV-Operation: PURGE` marker that rolls up (removes) every earlier revision.
    ///
    /// - Parameter lastRevision: only when the key's latest revision is this.
    /// - Returns: the revision of the marker.
    /// - Throws: `.wrongLastRevision`; `.invalidKey`; `.bucketNotFound`.
    @discardableResult
    public func purge(_ key: String, lastRevision: UInt64? = nil) async throws(KeyValueError) -> UInt64 {
        try KeyValueNames.validateKey(key, bucket: bucket)
        let headers = NATSHeaders([(KeyValueEntry.operationHeader, "PURGE"), ("Nats-Rollup", "sub")])
        return try await publish(key, [], headers: headers, lastRevision: lastRevision, what: "purge")
    }

    private func publish(_ key: String, _ value: [UInt8], headers: NATSHeaders?, lastRevision: UInt64?, what: String) async throws(KeyValueError) -> UInt64 {
        var options = JetStreamPublishOptions()
        options.expectedLastSubjectSequence = lastRevision
        do {
            return try await context.publish(value, to: prefix + key, headers: headers, options: options).sequence
        } catch {
            if error.code == .expectationFailed || error.apiErrorCode == .streamWrongLastSequence {
                let expected = lastRevision == 0 ? "no value yet" : "revision \(lastRevision ?? 0)"
                throw KeyValueError(.wrongLastRevision, "\(what) of key '\(key)' in bucket '\(bucket)' expected \(expected) but the key has another; read it again and retry",
                                    bucket: bucket, key: key, underlying: error)
            }
            if error.code == .noResponders {
                throw KeyValueError(.bucketNotFound, "nothing stored the \(what) of key '\(key)': bucket '\(bucket)' does not exist (or JetStream is unavailable); create the bucket first",
                                    bucket: bucket, key: key, underlying: error)
            }
            throw KeyValueError.wrap(error, "\(what) of key '\(key)' in bucket '\(bucket)'", bucket: bucket, key: key)
        }
    }

    // MARK: Keys, history, purge of markers

    /// The keys that hold a value (not deleted or purged), optionally only those matching
    /// `filters` (wildcards `*` and `>` allowed). Empty when there are none.
    ///
    /// - Throws: `.invalidKey` for a bad filter; `.bucketNotFound`.
    public func keys(matching filters: [String] = [">"]) async throws(KeyValueError) -> [String] {
        var options = KeyValueWatchOptions()
        options.ignoreDeletes = true
        options.metaOnly = true
        let entries = try await initialEntries(filters, options: options)
        var seen = Set<String>()
        return entries.compactMap { seen.insert($0.key).inserted ? $0.key : nil }
    }

    /// Every stored revision of `key`, oldest first, markers included.
    ///
    /// - Throws: `.keyNotFound` when the key has no entries; `.invalidKey`; `.bucketNotFound`.
    public func history(_ key: String) async throws(KeyValueError) -> [KeyValueEntry] {
        try KeyValueNames.validateKey(key, bucket: bucket)
        var options = KeyValueWatchOptions()
        options.includeHistory = true
        let entries = try await initialEntries([key], options: options)
        if entries.isEmpty { throw notFound(key, deleted: false) }
        return entries
    }

    /// Removes delete and purge markers with their history (like nats.go `PurgeDeletes`).
    ///
    /// Markers older than `olderThan` are removed with everything on their key; newer markers
    /// are kept but the revisions before them are removed. A zero or negative `olderThan`
    /// removes every marker whatever its age.
    /// - Returns: how many markers were found.
    @discardableResult
    public func purgeDeletes(olderThan: Duration = KeyValue.defaultPurgeDeletesThreshold) async throws(KeyValueError) -> Int {
        var options = KeyValueWatchOptions()
        options.metaOnly = true
        let entries = try await initialEntries([">"], options: options)
        let markers = entries.filter { $0.operation != .put }
        let limit = Date().addingTimeInterval(-Double(olderThan.components.seconds) - Double(olderThan.components.attoseconds) / 1e18)
        for marker in markers {
            let keep: UInt64? = olderThan > .zero && marker.created > limit ? 1 : nil
            do {
                try await context.purgeStream(streamName, subject: prefix + marker.key, keep: keep)
            } catch {
                throw KeyValueError.wrap(error, "purge of the markers of key '\(marker.key)' in bucket '\(bucket)'", bucket: bucket, key: marker.key)
            }
        }
        return markers.count
    }

    /// Default age past which ``purgeDeletes(olderThan:)`` removes a marker entirely: 30 minutes (like nats.go).
    public static let defaultPurgeDeletesThreshold: Duration = .seconds(1800)

    /// The entries a watch sends before its end-of-initial-values marker.
    func initialEntries(_ filters: [String], options: KeyValueWatchOptions) async throws(KeyValueError) -> [KeyValueEntry] {
        let watcher = try await watch(keys: filters, options: options)
        var entries: [KeyValueEntry] = []
        var iterator = watcher.makeAsyncIterator()
        do {
            while let event = try await iterator.next() {
                guard case .entry(let entry) = event else { break }
                entries.append(entry)
            }
        } catch let error {
            await watcher.close()
            throw error
        }
        await watcher.close()
        return entries
    }

    // MARK: Status

    /// The bucket's state and configuration.
    ///
    /// - Throws: `.bucketNotFound`.
    public func status() async throws(KeyValueError) -> KeyValueStatus {
        do {
            return KeyValueStatus(bucket: bucket, info: try await context.streamInfo(streamName))
        } catch {
            throw KeyValueError.wrap(error, "status of bucket '\(bucket)'", bucket: bucket)
        }
    }
}

extension JetStreamContext {
    /// Creates a bucket. Creating an existing bucket with the same configuration succeeds.
    ///
    /// - Throws: `.bucketExists` when it exists with another configuration; `.invalidBucketName`;
    ///   `.invalidArgument` naming a field out of range; `.jetStream` for other failures.
    @discardableResult
    public func createKeyValue(_ config: KeyValueConfig) async throws(KeyValueError) -> KeyValue {
        let streamConfig = try config.streamConfig()
        do {
            try await createStream(streamConfig)
        } catch {
            if error.apiErrorCode == .streamNameExist {
                throw KeyValueError(.bucketExists, "bucket '\(config.bucket)' exists with another configuration; use updateKeyValue to change it",
                                    bucket: config.bucket, underlying: error)
            }
            throw KeyValueError.wrap(error, "creation of bucket '\(config.bucket)'", bucket: config.bucket)
        }
        return KeyValue(bucket: config.bucket, context: self)
    }

    /// Changes a bucket's configuration (history, TTL, limits, description…).
    ///
    /// - Throws: `.bucketNotFound`; `.jetStream` when the server refuses the change (storage type, for example).
    @discardableResult
    public func updateKeyValue(_ config: KeyValueConfig) async throws(KeyValueError) -> KeyValue {
        let streamConfig = try config.streamConfig()
        do {
            try await updateStream(streamConfig)
        } catch {
            throw KeyValueError.wrap(error, "update of bucket '\(config.bucket)'", bucket: config.bucket)
        }
        return KeyValue(bucket: config.bucket, context: self)
    }

    /// Creates a bucket, or updates it when it exists.
    @discardableResult
    public func createOrUpdateKeyValue(_ config: KeyValueConfig) async throws(KeyValueError) -> KeyValue {
        do {
            return try await createKeyValue(config)
        } catch let error {
            guard error.code == .bucketExists else { throw error }
        }
        return try await updateKeyValue(config)
    }

    /// An existing bucket, checked with one stream info request.
    ///
    /// - Throws: `.bucketNotFound`; `.invalidBucketName`.
    public func keyValue(_ bucket: String) async throws(KeyValueError) -> KeyValue {
        try KeyValueNames.validateBucket(bucket)
        let kv = KeyValue(bucket: bucket, context: self)
        _ = try await kv.status()
        return kv
    }

    /// Deletes a bucket with every key and history.
    ///
    /// - Throws: `.bucketNotFound`; `.invalidBucketName`.
    public func deleteKeyValue(_ bucket: String) async throws(KeyValueError) {
        try KeyValueNames.validateBucket(bucket)
        do {
            try await deleteStream(KeyValueNames.streamName(bucket))
        } catch {
            throw KeyValueError.wrap(error, "deletion of bucket '\(bucket)'", bucket: bucket)
        }
    }

    /// The names of every bucket, sorted.
    public func keyValueBucketNames() async throws(KeyValueError) -> [String] {
        let names: [String]
        do {
            names = try await streamNames(subject: "$KV.*.>")
        } catch {
            throw KeyValueError(.jetStream, "listing buckets failed: \(error.message)", underlying: error)
        }
        return names.filter { $0.hasPrefix("KV_") }.map { String($0.dropFirst(3)) }.sorted()
    }

    /// The status of every bucket, sorted by name.
    public func keyValueStatuses() async throws(KeyValueError) -> [KeyValueStatus] {
        let infos: [StreamInfo]
        do {
            infos = try await streams(subject: "$KV.*.>")
        } catch {
            throw KeyValueError(.jetStream, "listing buckets failed: \(error.message)", underlying: error)
        }
        return infos.filter { $0.config.name.hasPrefix("KV_") }
            .map { KeyValueStatus(bucket: String($0.config.name.dropFirst(3)), info: $0) }
            .sorted { $0.bucket < $1.bucket }
    }
}
