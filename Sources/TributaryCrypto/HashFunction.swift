/// A cryptographic hash computed incrementally: `update` any number of times, then `finalize`.
///
/// Implemented by `SHA256` and `SHA512`; `HMAC` and `PBKDF2` are generic over it.
public protocol HashFunction: Sendable {
    /// The size in bytes of the blocks the compression function consumes (64 or 128).
    static var blockSize: Int { get }
    /// The size in bytes of the digest (32 or 64).
    static var digestSize: Int { get }
    /// A fresh hash state.
    init()
    /// Feeds `bytes` into the hash.
    mutating func update(_ bytes: UnsafeRawBufferPointer)
    /// Finishes the hash and returns the digest. The state must not be used afterwards.
    mutating func finalize() -> [UInt8]
    /// Finishes the hash and writes the digest into the first `digestSize` bytes of `output`,
    /// without allocating. The state must not be used afterwards.
    mutating func finalize(into output: UnsafeMutableRawBufferPointer)
}

extension HashFunction {
    /// Feeds the bytes of `data` into the hash.
    @inlinable
    public mutating func update<Bytes: Sequence>(_ data: Bytes) where Bytes.Element == UInt8 {
        let done: Void? = data.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil {
            let copy = Array(data)
            copy.withUnsafeBytes { update($0) }
        }
    }

    /// Finishes the hash and returns the digest (through `finalize(into:)`).
    @inlinable
    public mutating func finalize() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.digestSize) { out, count in
            finalize(into: UnsafeMutableRawBufferPointer(out))
            count = Self.digestSize
        }
    }

    /// The digest of `data` in one call.
    @inlinable
    public static func hash<Bytes: Sequence>(_ data: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var hasher = Self()
        hasher.update(data)
        return hasher.finalize()
    }
}
