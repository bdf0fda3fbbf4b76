extension JetStreamContext {
    // MARK: Object store buckets

    /// Creates an object store bucket: the stream `OBJ_<bucket>` as ADR-20 prescribes
    /// (subjects `$O.<bucket>.C.>` and `$O.<bucket>.M.>`, rollup and direct get allowed,
    /// discard new). Creating an existing bucket with the same settings succeeds.
    ///
    /// - Throws: `.invalidObjectName` for a bad bucket name; `.apiError` (`streamNameExist`)
    ///   when it exists with other settings.
    @discardableResult
    public func createObjectStore(_ config: ObjectStoreConfig) async throws(JetStreamError) -> ObjectStore {
        try ObjectStore.validateBucketName(config.bucket)
        try await createStream(config.streamConfig)
        return ObjectStore(context: self, bucket: config.bucket)
    }

    /// Changes an existing bucket's settings (description, TTL, size limit, replicas, metadata).
    ///
    /// - Throws: `.bucketNotFound`; `.apiError` when the server refuses the change (storage type).
    @discardableResult
    public func updateObjectStore(_ config: ObjectStoreConfig) async throws(JetStreamError) -> ObjectStore {
        try ObjectStore.validateBucketName(config.bucket)
        let store = ObjectStore(context: self, bucket: config.bucket)
        do {
            try await updateStream(config.streamConfig)
        } catch {
            throw store.bucketError(error)
        }
        return store
    }

    /// Binds to an existing bucket.
    ///
    /// - Throws: `.bucketNotFound`, `.invalidObjectName`.
    public func objectStore(_ bucket: String) async throws(JetStreamError) -> ObjectStore {
        try ObjectStore.validateBucketName(bucket)
        let store = ObjectStore(context: self, bucket: bucket)
        do {
            _ = try await streamInfo(store.streamName)
        } catch {
            throw store.bucketError(error)
        }
        return store
    }

    /// Deletes a bucket with every object in it.
    ///
    /// - Throws: `.bucketNotFound`, `.invalidObjectName`.
    public func deleteObjectStore(_ bucket: String) async throws(JetStreamError) {
        try ObjectStore.validateBucketName(bucket)
        let store = ObjectStore(context: self, bucket: bucket)
        do {
            try await deleteStream(store.streamName)
        } catch {
            throw store.bucketError(error)
        }
    }

    /// The names of every object store bucket, sorted.
    public func objectStoreNames() async throws(JetStreamError) -> [String] {
        try await objectStores().map(\.bucket)
    }

    /// The status of every object store bucket, sorted by name.
    public func objectStores() async throws(JetStreamError) -> [ObjectStoreStatus] {
        try await streams(subject: "$O.*.C.>")
            .filter { $0.config.name.hasPrefix("OBJ_") }
            .map(ObjectStoreStatus.init(streamInfo:))
            .sorted { $0.bucket < $1.bucket }
    }
}
