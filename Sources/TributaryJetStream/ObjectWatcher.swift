#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TributaryNATS

/// What an object store watch yields.
public enum ObjectWatchEvent: Sendable, Hashable {
    /// A record: a new or replaced object, a link, or (unless ignored) a deletion.
    case info(ObjectInfo)
    /// Every record that existed when the watch started has been delivered; what follows are
    /// changes. Sent exactly once, right away when the bucket is empty.
    case initialValuesDone
}

/// The records of a bucket as they change: an AsyncSequence of ``ObjectWatchEvent``.
///
/// Runs on an ordered consumer over `$O.<bucket>.M.>`. Iterate from one task; cancel it or
/// call ``stop()`` to end. A record that does not decode ends the sequence with `.badObjectInfo`.
public final class ObjectWatcher: AsyncSequence, Sendable {
    /// Watch events.
    public typealias Element = ObjectWatchEvent
    /// Why the watch ended early.
    public typealias Failure = JetStreamError

    let bucket: String
    let messages: JetStreamOrderedMessages
    let ignoreDeletes: Bool
    let emptyAtStart: Bool

    init(bucket: String, messages: JetStreamOrderedMessages, ignoreDeletes: Bool, emptyAtStart: Bool) {
        self.bucket = bucket
        self.messages = messages
        self.ignoreDeletes = ignoreDeletes
        self.emptyAtStart = emptyAtStart
    }

    /// Ends the watch (the consumer is deleted in the background).
    public func stop() { messages.stop() }

    /// Ends the watch and waits for the consumer's deletion.
    public func close() async { await messages.close() }

    /// Iterates the events.
    public struct AsyncIterator: AsyncIteratorProtocol {
        /// Watch events.
        public typealias Element = ObjectWatchEvent
        /// Why the watch ended early.
        public typealias Failure = JetStreamError

        let watcher: ObjectWatcher
        var source: JetStreamOrderedMessages.AsyncIterator
        var markerSent: Bool
        var markerNext = false

        /// The next event; nil after ``ObjectWatcher/stop()`` or cancellation.
        public mutating func next() async throws(JetStreamError) -> ObjectWatchEvent? {
            if !markerSent && (watcher.emptyAtStart || markerNext) {
                markerSent = true
                return .initialValuesDone
            }
            while true {
                guard let message = try await source.next() else { return nil }
                var info = try ObjectInfo.decode(message.payload, bucket: watcher.bucket, subject: message.subject)
                if let metadata = message.metadata {
                    let instant = Date(timeIntervalSince1970: Double(metadata.timestampNanoseconds) / 1e9)
                    info.modified = instant.formatted(.iso8601)
                    if !markerSent && metadata.pending == 0 { markerNext = true }
                }
                if watcher.ignoreDeletes && info.deleted {
                    if markerNext {
                        markerSent = true
                        return .initialValuesDone
                    }
                    continue
                }
                return .info(info)
            }
        }
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(watcher: self, source: messages.makeAsyncIterator(), markerSent: false)
    }
}

extension ObjectStore {
    // MARK: Watch and list

    /// Watches the bucket's records: first the current ones (the newest per name, or every
    /// stored record with `includeHistory`), then ``ObjectWatchEvent/initialValuesDone``, then changes.
    ///
    /// - Parameter ignoreDeletes: leave out deletion records.
    /// - Throws: `.bucketNotFound`.
    public func watch(includeHistory: Bool = false, ignoreDeletes: Bool = false) async throws(JetStreamError) -> ObjectWatcher {
        let all = Self.allMetaSubject(bucket: bucket)
        let empty: Bool
        do {
            let info = try await context.streamInfo(streamName, subjectsFilter: all)
            empty = info.state.subjects?.isEmpty ?? true
        } catch {
            throw bucketError(error)
        }
        var options = JetStreamOrderedConsumerOptions()
        options.filterSubjects = [all]
        options.deliverPolicy = includeHistory ? .all : .lastPerSubject
        options.batch = 256
        do {
            let messages = try context.orderedConsumer(stream: streamName, options: options)
            try await messages.start()
            return ObjectWatcher(bucket: bucket, messages: messages, ignoreDeletes: ignoreDeletes, emptyAtStart: empty)
        } catch {
            throw bucketError(error)
        }
    }

    /// The records of every object in the bucket (links included), sorted by name.
    ///
    /// - Parameter showDeleted: include deletion records.
    /// - Returns: an empty array for an empty bucket (nats.go reports an error there instead).
    /// - Throws: `.bucketNotFound`, `.badObjectInfo`.
    public func list(showDeleted: Bool = false) async throws(JetStreamError) -> [ObjectInfo] {
        let watcher = try await watch(ignoreDeletes: !showDeleted)
        var out: [ObjectInfo] = []
        do throws(JetStreamError) {
            for try await event in watcher {
                switch event {
                case .info(let info): out.append(info)
                case .initialValuesDone:
                    await watcher.close()
                    return out.sorted { $0.name < $1.name }
                }
            }
        } catch {
            await watcher.close()
            throw error
        }
        await watcher.close()
        throw JetStreamError(.cancelled, "listing bucket '\(bucket)' stopped before the end", stream: streamName)
    }
}
