#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TributaryCrypto
import TributaryNATS

/// Checks an object's chunks as they arrive: count, size and SHA-256 digest against its record.
/// Pure: the reader feeds it each chunk and asks it at the end.
struct ObjectDataVerifier {
    let info: ObjectInfo
    let expectedDigest: ObjectDigest?
    private var hasher = SHA256()
    private(set) var size: UInt64 = 0
    private(set) var chunks: UInt64 = 0

    init(info: ObjectInfo) throws(JetStreamError) {
        self.info = info
        if let text = info.digest {
            guard let digest = ObjectDigest(text: text) else {
                throw JetStreamError(.badObjectInfo, "object '\(info.name)' in bucket '\(info.bucket)' has digest '\(text)', which is not 'SHA-256=' and base64url of 32 bytes", stream: ObjectStore.streamName(bucket: info.bucket))
            }
            expectedDigest = digest
        } else {
            expectedDigest = nil
        }
    }

    /// True once every chunk the record announces has arrived.
    var isComplete: Bool { chunks >= info.chunks }

    /// Takes one chunk. - Throws: `.objectSizeMismatch` when it goes past the record's size or count.
    mutating func received(_ chunk: [UInt8]) throws(JetStreamError) {
        chunks += 1
        size += UInt64(chunk.count)
        if chunks > info.chunks || size > info.size {
            throw mismatch("more data than its record says")
        }
        hasher.update(chunk)
    }

    /// Called when the last chunk arrived (or the stream has no more).
    /// - Throws: `.objectSizeMismatch`, `.digestMismatch`.
    mutating func finish() throws(JetStreamError) {
        guard chunks == info.chunks, size == info.size else {
            throw mismatch("less data than its record says")
        }
        let actual = ObjectDigest(bytes: hasher.finalize())
        if let expectedDigest, actual != expectedDigest {
            throw JetStreamError(.digestMismatch, "object '\(info.name)' in bucket '\(info.bucket)' is corrupt: its data has digest \(actual.text) but its record says \(expectedDigest.text); put the object again",
                                 stream: ObjectStore.streamName(bucket: info.bucket))
        }
    }

    private func mismatch(_ what: String) -> JetStreamError {
        JetStreamError(.objectSizeMismatch, "object '\(info.name)' in bucket '\(info.bucket)' has \(what): \(chunks) chunk(s) and \(size) bytes read, record says \(info.chunks) chunk(s) and \(info.size) bytes; put the object again",
                       stream: ObjectStore.streamName(bucket: info.bucket))
    }
}

/// The data of one object, as an AsyncSequence of chunks, checked on the way.
///
/// Chunks arrive in order through an ordered consumer that keeps at most
/// ``ObjectStore/windowBytes`` requested. Before the last chunk is handed over, the size,
/// chunk count and SHA-256 digest are checked against the record; a difference ends the
/// sequence with `.objectSizeMismatch` or `.digestMismatch` instead of that chunk.
/// Iterate once, from one task. Breaking out early leaves the consumer to expire; call
/// ``close()`` to delete it at once.
public final class ObjectReader: AsyncSequence, Sendable {
    /// Chunks of data.
    public typealias Element = [UInt8]
    /// Why the data could not be read.
    public typealias Failure = JetStreamError

    /// The object's record (of the target object when read through a link).
    public let info: ObjectInfo
    let messages: JetStreamOrderedMessages?

    init(info: ObjectInfo, messages: JetStreamOrderedMessages?) {
        self.info = info
        self.messages = messages
    }

    /// Stops reading and deletes the consumer.
    public func close() async {
        await messages?.close()
    }

    /// Iterates the chunks.
    public struct AsyncIterator: AsyncIteratorProtocol {
        /// Chunks of data.
        public typealias Element = [UInt8]
        /// Why the data could not be read.
        public typealias Failure = JetStreamError

        let reader: ObjectReader
        var source: JetStreamOrderedMessages.AsyncIterator?
        var verifier: ObjectDataVerifier?
        var started = false
        var done = false
        let setupError: JetStreamError?

        init(reader: ObjectReader) {
            self.reader = reader
            source = reader.messages?.makeAsyncIterator()
            do throws(JetStreamError) {
                verifier = try ObjectDataVerifier(info: reader.info)
                setupError = nil
            } catch {
                verifier = nil
                setupError = error
            }
        }

        /// The next chunk; nil after the last one (all checks passed).
        public mutating func next() async throws(JetStreamError) -> [UInt8]? {
            if done { return nil }
            if let setupError {
                done = true
                await reader.close()
                throw setupError
            }
            guard var check = verifier else { return nil }
            do throws(JetStreamError) {
                if check.isComplete {
                    // An empty object: nothing to read, the digest is that of no bytes.
                    done = true
                    try check.finish()
                    await reader.close()
                    return nil
                }
                guard var iterator = source, let message = try await iterator.next() else {
                    throw JetStreamError(.cancelled, "reading object '\(reader.info.name)' stopped before its end", stream: ObjectStore.streamName(bucket: reader.info.bucket))
                }
                source = iterator
                let chunk = message.payload
                try check.received(chunk)
                let pending = message.metadata?.pending
                if check.isComplete, let pending, pending > 0 {
                    // Chunks beyond the record's count wait on the subject: the data is not the recorded one.
                    throw JetStreamError(.objectSizeMismatch, "object '\(reader.info.name)' in bucket '\(reader.info.bucket)' has \(pending) chunk(s) more than its record's \(reader.info.chunks); put the object again",
                                         stream: ObjectStore.streamName(bucket: reader.info.bucket))
                }
                if check.isComplete || pending == 0 {
                    done = true
                    try check.finish()
                    await reader.close()
                }
                verifier = check
                return chunk
            } catch {
                done = true
                await reader.close()
                throw error
            }
        }
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(reader: self)
    }
}

extension ObjectStore {
    // MARK: Get

    /// Opens object `name` for reading; the returned sequence yields its data in chunks.
    ///
    /// A link to an object is followed (once: a link never points to a link).
    /// - Throws: `.objectNotFound`; `.objectIsLink` for a link to a bucket; `.bucketNotFound`;
    ///   reading then throws `.digestMismatch` or `.objectSizeMismatch` for corrupt data.
    public func get(_ name: String, showDeleted: Bool = false) async throws(JetStreamError) -> ObjectReader {
        var record = try await info(name, showDeleted: showDeleted)
        var store = self
        if let link = record.link {
            guard let target = link.name, !link.isBucketLink else {
                throw JetStreamError(.objectIsLink, "'\(name)' in bucket '\(bucket)' is a link to bucket '\(link.bucket)', which has no data of its own; open that bucket instead", stream: streamName)
            }
            try Self.validateBucketName(link.bucket)
            store = link.bucket == bucket ? self : ObjectStore(context: context, bucket: link.bucket, windowBytes: windowBytes)
            record = try await store.info(target)
            if record.isLink {
                throw JetStreamError(.objectIsLink, "'\(name)' links to '\(target)', which is itself a link; links to links are not followed", stream: streamName)
            }
        }
        if record.chunks == 0 {
            return ObjectReader(info: record, messages: nil)
        }
        var options = JetStreamOrderedConsumerOptions()
        options.filterSubjects = [Self.chunkSubject(bucket: store.bucket, nuid: record.nuid)]
        let chunkSize = Swift.max(1, record.options?.maxChunkSize ?? Self.defaultChunkSize)
        options.batch = Swift.max(1, Swift.min(Int(clamping: record.chunks), store.windowBytes / chunkSize))
        do {
            let messages = try context.orderedConsumer(stream: store.streamName, options: options)
            return ObjectReader(info: record, messages: messages)
        } catch {
            throw store.bucketError(error)
        }
    }

    /// Reads a whole object into memory. Prefer ``get(_:showDeleted:)`` for large objects.
    /// - Throws: as ``get(_:showDeleted:)`` and its reading.
    public func getBytes(_ name: String) async throws(JetStreamError) -> [UInt8] {
        let reader = try await get(name)
        var out: [UInt8] = []
        for try await chunk in reader { out.append(contentsOf: chunk) }
        return out
    }

    /// Reads a whole object as UTF-8 text. See ``getBytes(_:)``.
    public func getString(_ name: String) async throws(JetStreamError) -> String {
        String(decoding: try await getBytes(name), as: UTF8.self)
    }

    /// Writes object `name` into the file at `path` (created or truncated), one chunk at a time.
    /// On any failure, including a digest mismatch, the partial file is removed.
    ///
    /// - Parameter progress: called after each chunk is written with the bytes so far.
    /// - Returns: the object's record.
    /// - Throws: as ``get(_:showDeleted:)``; `.objectSourceFailed` when the file cannot be written.
    @discardableResult
    public func get(_ name: String, toFile path: String,
                    progress: (@Sendable (UInt64) -> Void)? = nil) async throws(JetStreamError) -> ObjectInfo {
        let reader = try await get(name)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            await reader.close()
            throw JetStreamError(.objectSourceFailed, "cannot create '\(path)' for object '\(name)': \(reason)", stream: streamName)
        }
        var written: UInt64 = 0
        do throws(JetStreamError) {
            for try await chunk in reader {
                var failure: Int32 = 0
                chunk.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                        if n >= 0 {
                            offset += n
                        } else if errno != EINTR {
                            failure = errno
                            break
                        }
                    }
                }
                if failure != 0 {
                    throw JetStreamError(.objectSourceFailed, "writing object '\(name)' to '\(path)' failed: \(String(cString: strerror(failure)))", stream: streamName)
                }
                written += UInt64(chunk.count)
                progress?(written)
            }
            close(fd)
            return reader.info
        } catch {
            close(fd)
            unlink(path)
            await reader.close()
            throw error
        }
    }
}
