#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TributaryCrypto
import TributaryNATS

extension ObjectStore {
    /// Cuts a byte stream into chunks of exactly `chunkSize` bytes (the last may be shorter)
    /// and keeps the running digest, size and count. Pure: the put loops feed it.
    struct Chunker {
        let chunkSize: Int
        private(set) var buffer: [UInt8] = []
        private(set) var hasher = SHA256()
        private(set) var size: UInt64 = 0
        private(set) var chunks: UInt64 = 0

        init(chunkSize: Int) {
            self.chunkSize = chunkSize
            buffer.reserveCapacity(chunkSize)
        }

        /// Appends bytes; returns the chunks completed by them (each `chunkSize` bytes).
        mutating func append<Bytes: Collection>(_ bytes: Bytes) -> [[UInt8]] where Bytes.Element == UInt8 {
            var out: [[UInt8]] = []
            var rest = bytes[...]
            while !rest.isEmpty {
                let take = Swift.min(chunkSize - buffer.count, rest.count)
                let end = rest.index(rest.startIndex, offsetBy: take)
                buffer.append(contentsOf: rest[..<end])
                rest = rest[end...]
                if buffer.count == chunkSize { out.append(cut()) }
            }
            return out
        }

        /// Hands over a whole chunk the caller filled itself (file reads).
        mutating func emit(_ chunk: [UInt8]) -> [UInt8] {
            hasher.update(chunk)
            size += UInt64(chunk.count)
            chunks += 1
            return chunk
        }

        /// The partial chunk left at the end, if any.
        mutating func finish() -> [UInt8]? {
            buffer.isEmpty ? nil : cut()
        }

        /// The `SHA-256=` digest text of everything emitted.
        mutating func digest() -> String {
            ObjectDigest(bytes: hasher.finalize()).text
        }

        private mutating func cut() -> [UInt8] {
            let chunk = buffer
            buffer = []
            buffer.reserveCapacity(chunkSize)
            return emit(chunk)
        }
    }

    /// One put in progress: a bounded window of unacknowledged chunk publishes.
    final class PutSession {
        let store: ObjectStore
        let subject: String
        let window: Int
        var pending: [JetStreamPublishHandle] = []
        var head = 0

        init(store: ObjectStore, subject: String, window: Int) {
            self.store = store
            self.subject = subject
            self.window = window
        }

        /// Publishes one chunk, first waiting for the oldest acknowledgement when the window is full.
        func send(_ chunk: [UInt8]) async throws(JetStreamError) {
            if pending.count - head >= window {
                _ = try await pending[head].value()
                head += 1
                if head > 256 {
                    pending.removeFirst(head)
                    head = 0
                }
            }
            pending.append(try await store.context.publishAsync(chunk, to: subject))
        }

        /// Waits for every acknowledgement; throws the first failure.
        func finish() async throws(JetStreamError) {
            var firstError: JetStreamError?
            while head < pending.count {
                do {
                    _ = try await pending[head].value()
                } catch {
                    if firstError == nil { firstError = error }
                }
                head += 1
            }
            if let firstError { throw firstError }
        }

        /// After a failure: waits for what is in flight, then purges the partial chunks.
        func abandon() async {
            while head < pending.count {
                _ = try? await pending[head].value()
                head += 1
            }
            _ = try? await store.context.purgeStream(store.streamName, subject: subject)
        }
    }

    // MARK: Put

    /// Stores an object from a sequence of byte arrays of any sizes, re-cut into chunks of
    /// `meta.options.maxChunkSize` (default ``defaultChunkSize``).
    ///
    /// Memory stays bounded by one chunk plus ``windowBytes`` of unacknowledged chunks,
    /// whatever the object's size. The record is stored after every chunk is acknowledged;
    /// then the chunks of the version it replaces (if any) are purged. On failure the new
    /// chunks are purged and the previous version stays.
    /// - Returns: the stored record.
    /// - Throws: `.invalidObjectName`; `.objectIsLink` when `meta` carries a link;
    ///   `.invalidArgument` for a chunk size below 1 or above the server's max payload;
    ///   `.objectSourceFailed` when `data` throws (wrapped in `underlying`); publish errors
    ///   (`.apiError` when the bucket is full or sealed, `.timeout`…); `.bucketNotFound`.
    @discardableResult
    public func put<Source: AsyncSequence>(_ meta: ObjectMeta, data: Source) async throws(JetStreamError) -> ObjectInfo
    where Source.Element == [UInt8] {
        let (session, existing, chunkSize) = try await beginPut(meta)
        var chunker = Chunker(chunkSize: chunkSize)
        var iterator = data.makeAsyncIterator()
        do throws(JetStreamError) {
            while true {
                let next: [UInt8]?
                do {
                    next = try await iterator.next(isolation: #isolation)
                } catch {
                    throw JetStreamError(.objectSourceFailed, "reading the data of object '\(meta.name)' failed: \(error); nothing was stored", stream: streamName, underlying: error)
                }
                guard let bytes = next else { break }
                for chunk in chunker.append(bytes) { try await session.send(chunk) }
            }
            if let last = chunker.finish() { try await session.send(last) }
            return try await endPut(meta, session: session, chunker: &chunker, existing: existing)
        } catch {
            await session.abandon()
            throw error
        }
    }

    /// Stores an object from a byte array. See ``put(_:data:)``.
    @discardableResult
    public func put(_ meta: ObjectMeta, bytes: [UInt8]) async throws(JetStreamError) -> ObjectInfo {
        let (session, existing, chunkSize) = try await beginPut(meta)
        var chunker = Chunker(chunkSize: chunkSize)
        do throws(JetStreamError) {
            var offset = 0
            while offset < bytes.count {
                let end = Swift.min(offset + chunkSize, bytes.count)
                try await session.send(chunker.emit(Array(bytes[offset..<end])))
                offset = end
            }
            return try await endPut(meta, session: session, chunker: &chunker, existing: existing)
        } catch {
            await session.abandon()
            throw error
        }
    }

    /// Stores a byte array under `name`. See ``put(_:data:)``.
    @discardableResult
    public func put(_ name: String, bytes: [UInt8]) async throws(JetStreamError) -> ObjectInfo {
        try await put(ObjectMeta(name: name), bytes: bytes)
    }

    /// Stores a UTF-8 string under `name`. See ``put(_:data:)``.
    @discardableResult
    public func put(_ name: String, string: String) async throws(JetStreamError) -> ObjectInfo {
        try await put(ObjectMeta(name: name), bytes: Array(string.utf8))
    }

    /// Stores the file at `path`, read one chunk at a time (a file of any size is never held
    /// in memory). See ``put(_:data:)``.
    ///
    /// - Parameter progress: called after each chunk is sent with the bytes read so far.
    /// - Throws: `.objectSourceFailed` when the file cannot be opened or read.
    @discardableResult
    public func put(_ meta: ObjectMeta, fileAt path: String,
                    progress: (@Sendable (UInt64) -> Void)? = nil) async throws(JetStreamError) -> ObjectInfo {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw JetStreamError(.objectSourceFailed, "cannot open '\(path)' to put as object '\(meta.name)': \(reason)", stream: streamName)
        }
        defer { close(fd) }
        let (session, existing, chunkSize) = try await beginPut(meta)
        var chunker = Chunker(chunkSize: chunkSize)
        do throws(JetStreamError) {
            while true {
                var chunk = [UInt8](repeating: 0, count: chunkSize)
                var filled = 0
                var failure: Int32 = 0
                chunk.withUnsafeMutableBytes { raw in
                    while filled < chunkSize {
                        let n = read(fd, raw.baseAddress! + filled, chunkSize - filled)
                        if n > 0 {
                            filled += n
                        } else if n == 0 {
                            break
                        } else if errno != EINTR {
                            failure = errno
                            break
                        }
                    }
                }
                if failure != 0 {
                    throw JetStreamError(.objectSourceFailed, "reading '\(path)' for object '\(meta.name)' failed: \(String(cString: strerror(failure))); nothing was stored", stream: streamName)
                }
                if filled == 0 { break }
                if filled < chunkSize { chunk.removeSubrange(filled...) }
                try await session.send(chunker.emit(chunk))
                progress?(chunker.size)
                if filled < chunkSize { break }
            }
            return try await endPut(meta, session: session, chunker: &chunker, existing: existing)
        } catch {
            await session.abandon()
            throw error
        }
    }

    private func beginPut(_ meta: ObjectMeta) async throws(JetStreamError) -> (PutSession, ObjectInfo?, Int) {
        try Self.validateObjectName(meta.name)
        if meta.options?.link != nil {
            throw JetStreamError(.objectIsLink, "a put of '\(meta.name)' cannot carry a link; use addLink to make links", stream: streamName)
        }
        let chunkSize = meta.options?.maxChunkSize ?? Self.defaultChunkSize
        let limit = context.client.maxPayload
        guard chunkSize >= 1, limit <= 0 || chunkSize <= limit else {
            throw JetStreamError(.invalidArgument, "chunk size \(chunkSize) of object '\(meta.name)' is outside 1...\(limit) (the server's max payload); choose a smaller maxChunkSize", stream: streamName)
        }
        var existing: ObjectInfo?
        do {
            existing = try await info(meta.name, showDeleted: true)
        } catch {
            if error.code != .objectNotFound { throw error }
        }
        let nuid = Self.newNUID()
        let session = PutSession(store: self, subject: Self.chunkSubject(bucket: bucket, nuid: nuid),
                                 window: Swift.max(1, windowBytes / chunkSize))
        return (session, existing, chunkSize)
    }

    private func endPut(_ meta: ObjectMeta, session: PutSession, chunker: inout Chunker,
                        existing: ObjectInfo?) async throws(JetStreamError) -> ObjectInfo {
        try await session.finish()
        let nuid = String(session.subject.split(separator: ".").last ?? "")
        var stored = meta
        if stored.options?.maxChunkSize == nil {
            stored.options = ObjectMetaOptions(maxChunkSize: chunker.chunkSize)
        }
        var info = ObjectInfo(meta: stored, bucket: bucket, nuid: nuid, size: chunker.size,
                              chunks: chunker.chunks, digest: chunker.digest())
        try await publishRecord(info)
        info.modified = Self.now()
        // The previous version's chunks go only after the new record is stored, so a reader
        // always finds one complete version. A failed purge leaves unreferenced chunks behind
        // but loses nothing, so it does not fail the put.
        if let existing, !existing.deleted, !existing.isLink, !existing.nuid.isEmpty, existing.nuid != nuid {
            _ = try? await purgeChunks(nuid: existing.nuid)
        }
        return info
    }
}
