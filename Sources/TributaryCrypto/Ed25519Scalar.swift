// Arithmetic modulo the group order L = 2^252 + 27742317777372353535851937790883648493
// (RFC 8032 §5.1). Reduction shifts the input in one bit at a time and subtracts L under a
// mask, so its running time does not depend on the (secret) values.

enum Ed25519Scalar {
    /// L as four little-endian 64-bit words.
    static let order: (UInt64, UInt64, UInt64, UInt64) = (0x5812_631A_5CF5_D3ED, 0x14DE_F9DE_A2F7_9CD6, 0, 0x1000_0000_0000_0000)

    /// Little-endian bytes to 64-bit words (missing high bytes are zero).
    static func words(_ bytes: [UInt8], count: Int) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: count)
        for (i, byte) in bytes.enumerated() where i < count * 8 {
            out[i >> 3] |= UInt64(byte) << UInt64(8 * (i & 7))
        }
        return out
    }

    static func bytes(_ words: (UInt64, UInt64, UInt64, UInt64)) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let list = [words.0, words.1, words.2, words.3]
        for i in 0..<32 { out[i] = UInt8(truncatingIfNeeded: list[i >> 3] >> UInt64(8 * (i & 7))) }
        return out
    }

    /// `value` (little-endian words, any length) modulo L, as 32 bytes.
    static func reduce(words value: [UInt64]) -> [UInt8] {
        var r: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        for bit in stride(from: value.count * 64 - 1, through: 0, by: -1) {
            // r < L < 2^253, so 2r + 1 < 2^254 fits the four words.
            let incoming = (value[bit >> 6] >> UInt64(bit & 63)) & 1
            r = (r.0 << 1 | incoming, r.1 << 1 | r.0 >> 63, r.2 << 1 | r.1 >> 63, r.3 << 1 | r.2 >> 63)
            // r - L; keep it unless it borrowed.
            let (d0, b0) = r.0.subtractingReportingOverflow(order.0)
            let (d1a, b1a) = r.1.subtractingReportingOverflow(order.1)
            let (d1, b1b) = d1a.subtractingReportingOverflow(b0 ? 1 : 0)
            let (d2a, b2a) = r.2.subtractingReportingOverflow(order.2)
            let (d2, b2b) = d2a.subtractingReportingOverflow((b1a || b1b) ? 1 : 0)
            let (d3a, b3a) = r.3.subtractingReportingOverflow(order.3)
            let (d3, b3b) = d3a.subtractingReportingOverflow((b2a || b2b) ? 1 : 0)
            let borrowed = UInt64((b3a || b3b) ? 1 : 0)
            let keep = 0 &- borrowed   // all ones: keep r; zero: take r - L
            r = ((r.0 & keep) | (d0 & ~keep), (r.1 & keep) | (d1 & ~keep),
                 (r.2 & keep) | (d2 & ~keep), (r.3 & keep) | (d3 & ~keep))
        }
        return bytes(r)
    }

    /// A 64-byte hash output modulo L.
    static func reduce(_ wide: [UInt8]) -> [UInt8] {
        reduce(words: words(wide, count: 8))
    }

    /// (a · b + c) mod L for 32-byte little-endian a, b, c.
    static func multiplyAdd(_ a: [UInt8], _ b: [UInt8], _ c: [UInt8]) -> [UInt8] {
        let x = words(a, count: 4), y = words(b, count: 4), z = words(c, count: 4)
        var product = [UInt64](repeating: 0, count: 9)
        for i in 0..<4 {
            var carry: UInt64 = 0
            for j in 0..<4 {
                let sum = UInt128(x[i]) &* UInt128(y[j]) &+ UInt128(product[i + j]) &+ UInt128(carry)
                product[i + j] = UInt64(truncatingIfNeeded: sum)
                carry = UInt64(truncatingIfNeeded: sum >> 64)
            }
            product[i + 4] = carry
        }
        var carry: UInt64 = 0
        for i in 0..<9 {
            let sum = UInt128(product[i]) &+ UInt128(i < 4 ? z[i] : 0) &+ UInt128(carry)
            product[i] = UInt64(truncatingIfNeeded: sum)
            carry = UInt64(truncatingIfNeeded: sum >> 64)
        }
        return reduce(words: product)
    }

    /// True when the 32 little-endian bytes encode a number below L (a canonical S, RFC 8032 §5.1.7).
    static func isCanonical<Bytes: Collection>(_ s: Bytes) -> Bool where Bytes.Element == UInt8 {
        let w = words(Array(s), count: 4)
        let l = [order.0, order.1, order.2, order.3]
        for i in stride(from: 3, through: 0, by: -1) where w[i] != l[i] {
            return w[i] < l[i]
        }
        return false   // equal to L
    }
}
