#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// The object store's metadata record (ADR-20): one JSON document per object, stored on
// `$O.<bucket>.M.<encoded name>` and rolled up so only the newest stays. Field names and
// omissions follow nats.go's `ObjectInfo` JSON, so records written by nats.go, nats-py and
// this client read in each other.

/// A link from one object store entry to another object, or to a whole bucket (ADR-20).
public struct ObjectLink: Sendable, Hashable, Codable {
    /// The bucket linked to.
    public var bucket: String
    /// The object linked to; nil for a link to the whole bucket.
    public var name: String?

    /// Creates a link to `name` in `bucket`, or to the whole bucket when `name` is nil.
    public init(bucket: String, name: String? = nil) {
        self.bucket = bucket
        self.name = name
    }

    /// True for a link to a whole bucket rather than one object.
    public var isBucketLink: Bool { name?.isEmpty ?? true }

    enum CodingKeys: String, CodingKey { case bucket, name }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        bucket = try c.decode(String.self, forKey: .bucket)
        name = try c.decodeIfPresent(String.self, forKey: .name).flatMap { $0.isEmpty ? nil : $0 }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(bucket, forKey: .bucket)
        try c.encodeIfPresent(name, forKey: .name)
    }
}

/// Options stored with an object: its link target or its chunk size (nats.go `ObjectMetaOptions`).
public struct ObjectMetaOptions: Sendable, Hashable, Codable {
    /// Set for a link; a link has no data.
    public var link: ObjectLink?
    /// The largest chunk, in bytes; nil for ``ObjectStore/defaultChunkSize``.
    public var maxChunkSize: Int?

    /// Creates options.
    public init(link: ObjectLink? = nil, maxChunkSize: Int? = nil) {
        self.link = link
        self.maxChunkSize = maxChunkSize
    }

    enum CodingKeys: String, CodingKey {
        case link
        case maxChunkSize = "max_chunk_size"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        link = try c.decodeIfPresent(ObjectLink.self, forKey: .link)
        maxChunkSize = try c.decodeIfPresent(Int.self, forKey: .maxChunkSize).flatMap { $0 == 0 ? nil : $0 }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(link, forKey: .link)
        try c.encodeIfPresent(maxChunkSize, forKey: .maxChunkSize)
    }
}

/// What the caller says about an object: its name and descriptive fields (nats.go `ObjectMeta`).
public struct ObjectMeta: Sendable, Hashable {
    /// The object's name (see ``ObjectStore/validateObjectName(_:)``).
    public var name: String
    /// A free-text description. Default nil.
    public var description: String?
    /// Header-like fields (name → values), like nats.go's `Headers`. Default nil.
    public var headers: [String: [String]]?
    /// User metadata. Default nil.
    public var metadata: [String: String]?
    /// Chunk size (for a put) or link target. Default nil.
    public var options: ObjectMetaOptions?

    /// Creates object metadata.
    public init(name: String, description: String? = nil, headers: [String: [String]]? = nil,
                metadata: [String: String]? = nil, options: ObjectMetaOptions? = nil) {
        self.name = name
        self.description = description
        self.headers = headers
        self.metadata = metadata
        self.options = options
    }
}

/// An object's stored record: its metadata plus where and how its data is stored (nats.go `ObjectInfo`).
public struct ObjectInfo: Sendable, Hashable, Codable {
    /// The object's name.
    public var name: String
    /// The description, if any.
    public var description: String?
    /// Header-like fields, if any.
    public var headers: [String: [String]]?
    /// User metadata, if any.
    public var metadata: [String: String]?
    /// Chunk size or link target, if any.
    public var options: ObjectMetaOptions?
    /// The bucket holding the record.
    public var bucket: String
    /// The token of the chunk subject `$O.<bucket>.C.<nuid>`; new for every put.
    public var nuid: String
    /// Bytes of data.
    public var size: UInt64
    /// When the record was stored (RFC 3339, the server's time); nil when not known.
    public var modified: String?
    /// Number of chunks.
    public var chunks: UInt64
    /// `SHA-256=<base64url>` of the data; nil for links and deleted objects.
    public var digest: String?
    /// True for a deletion record (the data is purged).
    public var deleted: Bool

    /// Creates a record.
    public init(meta: ObjectMeta, bucket: String, nuid: String, size: UInt64 = 0, modified: String? = nil,
                chunks: UInt64 = 0, digest: String? = nil, deleted: Bool = false) {
        name = meta.name
        description = meta.description
        headers = meta.headers
        metadata = meta.metadata
        options = meta.options
        self.bucket = bucket
        self.nuid = nuid
        self.size = size
        self.modified = modified
        self.chunks = chunks
        self.digest = digest
        self.deleted = deleted
    }

    /// The caller-facing part of the record.
    public var meta: ObjectMeta {
        ObjectMeta(name: name, description: description, headers: headers, metadata: metadata, options: options)
    }

    /// The link target when this record is a link.
    public var link: ObjectLink? { options?.link }

    /// True when this record is a link (to an object or a bucket).
    public var isLink: Bool { link != nil }

    enum CodingKeys: String, CodingKey {
        case name, description, headers, metadata, options, bucket, nuid, size, chunks, digest, deleted
        case modified = "mtime"
    }

    /// The zero time nats.go writes into `mtime`: the real time is the stored message's.
    static let zeroTime = "0001-01-01T00:00:00Z"

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description).flatMap { $0.isEmpty ? nil : $0 }
        headers = try c.decodeIfPresent([String: [String]].self, forKey: .headers)
        metadata = try c.decodeIfPresent([String: String].self, forKey: .metadata)
        options = try c.decodeIfPresent(ObjectMetaOptions.self, forKey: .options)
        bucket = try c.decodeIfPresent(String.self, forKey: .bucket) ?? ""
        nuid = try c.decodeIfPresent(String.self, forKey: .nuid) ?? ""
        size = try c.decodeIfPresent(UInt64.self, forKey: .size) ?? 0
        let time = try c.decodeIfPresent(String.self, forKey: .modified)
        modified = time == nil || time == Self.zeroTime || time == "" ? nil : time
        chunks = try c.decodeIfPresent(UInt64.self, forKey: .chunks) ?? 0
        digest = try c.decodeIfPresent(String.self, forKey: .digest).flatMap { $0.isEmpty ? nil : $0 }
        deleted = try c.decodeIfPresent(Bool.self, forKey: .deleted) ?? false
    }

    /// Encodes like nats.go: empty optional fields are left out and `mtime` is the zero time.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(description, forKey: .description)
        if let headers, !headers.isEmpty { try c.encode(headers, forKey: .headers) }
        if let metadata, !metadata.isEmpty { try c.encode(metadata, forKey: .metadata) }
        if let options, options.link != nil || options.maxChunkSize != nil { try c.encode(options, forKey: .options) }
        try c.encode(bucket, forKey: .bucket)
        try c.encode(nuid, forKey: .nuid)
        try c.encode(size, forKey: .size)
        try c.encode(Self.zeroTime, forKey: .modified)
        try c.encode(chunks, forKey: .chunks)
        try c.encodeIfPresent(digest, forKey: .digest)
        if deleted { try c.encode(true, forKey: .deleted) }
    }

    /// Decodes a stored record.
    /// - Throws: `.badObjectInfo` naming what did not decode.
    public static func decode(_ bytes: [UInt8], bucket: String, subject: String? = nil) throws(JetStreamError) -> ObjectInfo {
        do {
            return try JSONDecoder().decode(ObjectInfo.self, from: Data(bytes))
        } catch {
            let where_ = subject.map { " on '\($0)'" } ?? ""
            throw JetStreamError(.badObjectInfo, "the object info\(where_) in bucket '\(bucket)' is not valid object-store JSON (\(bytes.count) bytes): \(error); the record was written by another tool or is damaged, so put or delete the object again",
                                 stream: ObjectStore.streamName(bucket: bucket), underlying: error)
        }
    }

    /// The JSON stored for this record.
    func encoded() throws(JetStreamError) -> [UInt8] {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Array(try encoder.encode(self))
        } catch {
            throw JetStreamError(.invalidArgument, "the info of object '\(name)' does not encode as JSON: \(error)", underlying: error)
        }
    }
}
