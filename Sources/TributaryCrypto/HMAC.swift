/// HMAC (RFC 2104) over any `HashFunction`.
public struct HMAC<H: HashFunction>: Sendable {
    private var inner: H
    private var outer: H

    /// Starts an HMAC keyed with `key`. Keys longer than the block size are hashed first.
    public init<Key: Sequence>(key: Key) where Key.Element == UInt8 {
        var block = Array(key)
        if block.count > H.blockSize { block = H.hash(block) }
        block += [UInt8](repeating: 0, count: H.blockSize - block.count)
        inner = H()
        outer = H()
        inner.update(block.map { $0 ^ 0x36 })
        outer.update(block.map { $0 ^ 0x5c })
        for i in block.indices { block[i] = 0 }
    }

    /// Feeds `bytes` into the MAC.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        inner.update(bytes)
    }

    /// Feeds `data` into the MAC.
    public mutating func update<Bytes: Sequence>(_ data: Bytes) where Bytes.Element == UInt8 {
        inner.update(data)
    }

    /// Finishes and returns the authentication code.
    public mutating func finalize() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: H.digestSize) { out, count in
            finalize(into: UnsafeMutableRawBufferPointer(out))
            count = H.digestSize
        }
    }

    /// Finishes and writes the authentication code into the first `H.digestSize` bytes of
    /// `output`, without allocating.
    public mutating func finalize(into output: UnsafeMutableRawBufferPointer) {
        withUnsafeTemporaryAllocation(byteCount: H.digestSize, alignment: 8) { innerDigest in
            inner.finalize(into: innerDigest)
            outer.update(UnsafeRawBufferPointer(innerDigest))
            memsetZero(innerDigest.baseAddress!, innerDigest.count)
        }
        outer.finalize(into: output)
    }

    /// The authentication code of `message` under `key`, in one call.
    public static func authenticationCode<Key: Sequence, Message: Sequence>(key: Key, message: Message) -> [UInt8]
    where Key.Element == UInt8, Message.Element == UInt8 {
        var mac = HMAC(key: key)
        mac.update(message)
        return mac.finalize()
    }
}

/// PBKDF2 (RFC 8018) with HMAC over any `HashFunction`; SCRAM calls it `Hi`.
public enum PBKDF2<H: HashFunction> {
    /// Derives `length` bytes from `password` and `salt` with `iterations` rounds.
    ///
    /// - Precondition: `iterations >= 1` and `length >= 1`; callers validate peer-supplied values first.
    public static func derive<Password: Sequence, Salt: Sequence>(
        password: Password, salt: Salt, iterations: Int, length: Int
    ) -> [UInt8] where Password.Element == UInt8, Salt.Element == UInt8 {
        precondition(iterations >= 1 && length >= 1, "PBKDF2 needs at least one iteration and one output byte")
        let keyed = HMAC<H>(key: password)
        let salt = Array(salt)
        let size = H.digestSize
        var output = [UInt8]()
        output.reserveCapacity(length)
        // U_i and their running XOR T live in one stack buffer, wiped at the end; each round
        // copies the keyed HMAC state (inline, no heap) and allocates nothing.
        withUnsafeTemporaryAllocation(byteCount: 2 * size, alignment: 8) { scratch in
            let u = UnsafeMutableRawBufferPointer(rebasing: scratch[0..<size])
            let t = UnsafeMutableRawBufferPointer(rebasing: scratch[size..<(2 * size)])
            var blockIndex: UInt32 = 1
            while output.count < length {
                var mac = keyed
                mac.update(salt)
                mac.update([UInt8(blockIndex >> 24), UInt8(truncatingIfNeeded: blockIndex >> 16),
                            UInt8(truncatingIfNeeded: blockIndex >> 8), UInt8(truncatingIfNeeded: blockIndex)])
                mac.finalize(into: u)
                t.copyMemory(from: UnsafeRawBufferPointer(u))
                if iterations > 1 {
                    for _ in 2...iterations {
                        var next = keyed
                        next.update(UnsafeRawBufferPointer(u))
                        next.finalize(into: u)
                        for i in 0..<size { t[i] ^= u[i] }
                    }
                }
                output += t.prefix(length - output.count)
                blockIndex += 1
            }
            memsetZero(scratch.baseAddress!, scratch.count)
        }
        return output
    }
}

/// Byte helpers for secrets.
public enum SecretBytes {
    /// Compares two byte strings in time that depends only on their lengths.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    /// Overwrites `bytes` with zeros in place. Swift may still hold copies made earlier (copy on
    /// write, arguments); this clears the storage the caller owns.
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            // A volatile-style write through an opaque pointer so the stores are not elided.
            memsetZero(base, raw.count)
        }
    }
}

@inline(never)
private func memsetZero(_ pointer: UnsafeMutableRawPointer, _ count: Int) {
    let bytes = pointer.assumingMemoryBound(to: UInt8.self)
    for i in 0..<count { bytes[i] = 0 }
}
