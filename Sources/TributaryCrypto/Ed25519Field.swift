// Arithmetic modulo p = 2^255 - 19 for Ed25519 (RFC 8032 §5.1), written from the RFC.
//
// An element is five 51-bit limbs (radix 2^51). Every operation returns a "weakly reduced"
// element: each limb below 2^52, so sums of two elements and products fit the 128-bit
// accumulators. Nothing here branches on, or indexes memory by, the value of an element:
// carries are shifts and masks, the final reduction selects with a mask, and exponents are
// public constants.

/// An element of GF(2^255 - 19).
struct Ed25519FieldElement: Sendable {
    var l0: UInt64
    var l1: UInt64
    var l2: UInt64
    var l3: UInt64
    var l4: UInt64

    static let mask51: UInt64 = (1 << 51) - 1

    static let zero = Ed25519FieldElement(l0: 0, l1: 0, l2: 0, l3: 0, l4: 0)
    static let one = Ed25519FieldElement(l0: 1, l1: 0, l2: 0, l3: 0, l4: 0)

    /// 2p as limbs, added before a subtraction so that no limb goes below zero.
    private static let twoP = Ed25519FieldElement(l0: 0xF_FFFF_FFFF_FFDA, l1: 0xF_FFFF_FFFF_FFFE, l2: 0xF_FFFF_FFFF_FFFE,
                                                  l3: 0xF_FFFF_FFFF_FFFE, l4: 0xF_FFFF_FFFF_FFFE)

    init(l0: UInt64, l1: UInt64, l2: UInt64, l3: UInt64, l4: UInt64) {
        self.l0 = l0
        self.l1 = l1
        self.l2 = l2
        self.l3 = l3
        self.l4 = l4
    }

    /// A small constant.
    init(_ value: UInt64) {
        self.init(l0: value & Self.mask51, l1: value >> 51, l2: 0, l3: 0, l4: 0)
    }

    /// Decodes 32 little-endian bytes; the top bit (bit 255) is ignored, as RFC 8032 §5.1.3 says.
    /// Values from p to 2^255 - 1 are accepted and reduced by arithmetic; callers that need a
    /// canonical encoding check it themselves.
    init<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8, Bytes.Index == Int {
        func word(_ index: Int) -> UInt64 {
            var value: UInt64 = 0
            for k in 0..<8 { value |= UInt64(bytes[bytes.startIndex + index * 8 + k]) << UInt64(8 * k) }
            return value
        }
        let w0 = word(0), w1 = word(1), w2 = word(2), w3 = word(3)
        l0 = w0 & Self.mask51
        l1 = ((w0 >> 51) | (w1 << 13)) & Self.mask51
        l2 = ((w1 >> 38) | (w2 << 26)) & Self.mask51
        l3 = ((w2 >> 25) | (w3 << 39)) & Self.mask51
        l4 = (w3 >> 12) & Self.mask51
    }

    /// Propagates carries so that every limb is below 2^52 (the top carry folds back times 19).
    @inline(__always)
    func carried() -> Ed25519FieldElement {
        var r = self
        var c = r.l0 >> 51; r.l0 &= Self.mask51; r.l1 &+= c
        c = r.l1 >> 51; r.l1 &= Self.mask51; r.l2 &+= c
        c = r.l2 >> 51; r.l2 &= Self.mask51; r.l3 &+= c
        c = r.l3 >> 51; r.l3 &= Self.mask51; r.l4 &+= c
        c = r.l4 >> 51; r.l4 &= Self.mask51; r.l0 &+= c &* 19
        return r
    }

    static func + (a: Ed25519FieldElement, b: Ed25519FieldElement) -> Ed25519FieldElement {
        Ed25519FieldElement(l0: a.l0 &+ b.l0, l1: a.l1 &+ b.l1, l2: a.l2 &+ b.l2, l3: a.l3 &+ b.l3, l4: a.l4 &+ b.l4).carried()
    }

    static func - (a: Ed25519FieldElement, b: Ed25519FieldElement) -> Ed25519FieldElement {
        // b is weakly reduced (limbs < 2^52 - 38 ≤ 2p's limbs), so a + 2p - b never underflows.
        Ed25519FieldElement(l0: a.l0 &+ twoP.l0 &- b.l0, l1: a.l1 &+ twoP.l1 &- b.l1, l2: a.l2 &+ twoP.l2 &- b.l2,
                            l3: a.l3 &+ twoP.l3 &- b.l3, l4: a.l4 &+ twoP.l4 &- b.l4).carried()
    }

    prefix static func - (a: Ed25519FieldElement) -> Ed25519FieldElement {
        zero - a
    }

    static func * (a: Ed25519FieldElement, b: Ed25519FieldElement) -> Ed25519FieldElement {
        let a0 = UInt128(a.l0), a1 = UInt128(a.l1), a2 = UInt128(a.l2), a3 = UInt128(a.l3), a4 = UInt128(a.l4)
        let b0 = UInt128(b.l0), b1 = UInt128(b.l1), b2 = UInt128(b.l2), b3 = UInt128(b.l3), b4 = UInt128(b.l4)
        // 2^255 ≡ 19 (mod p): limb products that reach 2^255 come back times 19.
        let b1x19 = UInt128(b.l1 &* 19), b2x19 = UInt128(b.l2 &* 19), b3x19 = UInt128(b.l3 &* 19), b4x19 = UInt128(b.l4 &* 19)
        var r0 = a0 &* b0 &+ a1 &* b4x19 &+ a2 &* b3x19 &+ a3 &* b2x19 &+ a4 &* b1x19
        var r1 = a0 &* b1 &+ a1 &* b0 &+ a2 &* b4x19 &+ a3 &* b3x19 &+ a4 &* b2x19
        var r2 = a0 &* b2 &+ a1 &* b1 &+ a2 &* b0 &+ a3 &* b4x19 &+ a4 &* b3x19
        var r3 = a0 &* b3 &+ a1 &* b2 &+ a2 &* b1 &+ a3 &* b0 &+ a4 &* b4x19
        var r4 = a0 &* b4 &+ a1 &* b3 &+ a2 &* b2 &+ a3 &* b1 &+ a4 &* b0
        return reduceWide(&r0, &r1, &r2, &r3, &r4)
    }

    func squared() -> Ed25519FieldElement {
        let a0 = UInt128(l0), a1 = UInt128(l1), a2 = UInt128(l2), a3 = UInt128(l3), a4 = UInt128(l4)
        let d0 = a0 &* 2, d1 = a1 &* 2, d2 = a2 &* 2
        let a3x19 = UInt128(l3 &* 19), a4x19 = UInt128(l4 &* 19)
        var r0 = a0 &* a0 &+ d1 &* a4x19 &+ d2 &* a3x19
        var r1 = d0 &* a1 &+ d2 &* a4x19 &+ a3 &* a3x19
        var r2 = d0 &* a2 &+ a1 &* a1 &+ 2 &* a3 &* a4x19
        var r3 = d0 &* a3 &+ d1 &* a2 &+ a4 &* a4x19
        var r4 = d0 &* a4 &+ d1 &* a3 &+ a2 &* a2
        return Self.reduceWide(&r0, &r1, &r2, &r3, &r4)
    }

    @inline(__always)
    private static func reduceWide(_ r0: inout UInt128, _ r1: inout UInt128, _ r2: inout UInt128,
                                   _ r3: inout UInt128, _ r4: inout UInt128) -> Ed25519FieldElement {
        let m = UInt128(mask51)
        r1 &+= r0 >> 51
        r2 &+= r1 >> 51
        r3 &+= r2 >> 51
        r4 &+= r3 >> 51
        let top = (r4 >> 51) &* 19
        var x0 = (r0 & m) &+ top
        let x1 = UInt64(truncatingIfNeeded: r1 & m) &+ UInt64(truncatingIfNeeded: x0 >> 51)
        x0 &= m
        return Ed25519FieldElement(l0: UInt64(truncatingIfNeeded: x0), l1: x1, l2: UInt64(truncatingIfNeeded: r2 & m),
                                   l3: UInt64(truncatingIfNeeded: r3 & m), l4: UInt64(truncatingIfNeeded: r4 & m))
    }

    /// `self` raised to a public exponent given as 32 little-endian bytes (square and multiply).
    func power(_ exponent: [UInt8]) -> Ed25519FieldElement {
        var result = Self.one
        for bit in stride(from: 255, through: 0, by: -1) {
            result = result.squared()
            if (exponent[bit >> 3] >> UInt8(bit & 7)) & 1 == 1 { result = result * self }
        }
        return result
    }

    /// p - 2 = 2^255 - 21.
    private static let pMinus2: [UInt8] = [0xEB] + [UInt8](repeating: 0xFF, count: 30) + [0x7F]
    /// (p - 5) / 8 = 2^252 - 3.
    static let pMinus5Over8: [UInt8] = [0xFD] + [UInt8](repeating: 0xFF, count: 30) + [0x0F]
    /// (p - 1) / 4 = 2^253 - 5.
    private static let pMinus1Over4: [UInt8] = [0xFB] + [UInt8](repeating: 0xFF, count: 30) + [0x1F]

    /// The multiplicative inverse (Fermat: x^(p-2)); zero maps to zero.
    func inverted() -> Ed25519FieldElement { power(Self.pMinus2) }

    /// A square root of -1: 2^((p-1)/4).
    static let sqrtMinusOne = Ed25519FieldElement(2).power(pMinus1Over4)

    /// The canonical 32-byte little-endian encoding (value fully reduced below p).
    func encoded() -> [UInt8] {
        let h = carried().carried()
        // t = h + 19; h ≥ p exactly when t reaches 2^255. Then h - p = t - 2^255.
        var t0 = h.l0 &+ 19
        var t1 = h.l1 &+ (t0 >> 51); t0 &= Self.mask51
        var t2 = h.l2 &+ (t1 >> 51); t1 &= Self.mask51
        var t3 = h.l3 &+ (t2 >> 51); t2 &= Self.mask51
        var t4 = h.l4 &+ (t3 >> 51); t3 &= Self.mask51
        let overflow = t4 >> 51
        t4 &= Self.mask51
        var c0 = h.l0
        var c1 = h.l1 &+ (c0 >> 51); c0 &= Self.mask51
        var c2 = h.l2 &+ (c1 >> 51); c1 &= Self.mask51
        var c3 = h.l3 &+ (c2 >> 51); c2 &= Self.mask51
        var c4 = h.l4 &+ (c3 >> 51); c3 &= Self.mask51
        c4 &= Self.mask51
        let take = 0 &- overflow
        let r0 = (t0 & take) | (c0 & ~take), r1 = (t1 & take) | (c1 & ~take), r2 = (t2 & take) | (c2 & ~take)
        let r3 = (t3 & take) | (c3 & ~take), r4 = (t4 & take) | (c4 & ~take)
        let words = [r0 | (r1 << 51), (r1 >> 13) | (r2 << 38), (r2 >> 26) | (r3 << 25), (r3 >> 39) | (r4 << 12)]
        var out = [UInt8](repeating: 0, count: 32)
        for (i, word) in words.enumerated() {
            for k in 0..<8 { out[i * 8 + k] = UInt8(truncatingIfNeeded: word >> UInt64(8 * k)) }
        }
        return out
    }

    /// True when the canonical value is odd (RFC 8032 calls this the sign of x).
    var isNegative: Bool { encoded()[0] & 1 == 1 }

    /// True when the value is zero modulo p.
    var isZero: Bool {
        var acc: UInt8 = 0
        for byte in encoded() { acc |= byte }
        return acc == 0
    }

    /// Equality modulo p (compares canonical encodings).
    func equals(_ other: Ed25519FieldElement) -> Bool {
        SecretBytes.constantTimeEqual(encoded(), other.encoded())
    }

    /// Swaps `a` and `b` when `bit` is 1, leaves them when 0, without branching on `bit`.
    @inline(__always)
    static func conditionalSwap(_ a: inout Ed25519FieldElement, _ b: inout Ed25519FieldElement, _ bit: UInt64) {
        let mask = 0 &- bit
        var t = mask & (a.l0 ^ b.l0); a.l0 ^= t; b.l0 ^= t
        t = mask & (a.l1 ^ b.l1); a.l1 ^= t; b.l1 ^= t
        t = mask & (a.l2 ^ b.l2); a.l2 ^= t; b.l2 ^= t
        t = mask & (a.l3 ^ b.l3); a.l3 ^= t; b.l3 ^= t
        t = mask & (a.l4 ^ b.l4); a.l4 ^= t; b.l4 ^= t
    }
}
