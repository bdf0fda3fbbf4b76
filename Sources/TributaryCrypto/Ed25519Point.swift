// Points of edwards25519 in extended coordinates (RFC 8032 §5.1.4): x = X/Z, y = Y/Z, x·y = T/Z.
// The addition law is complete for this curve (a = -1 is a square, d is not), so one formula
// serves every pair of points, the identity and doubling included.

struct Ed25519Point: Sendable {
    var x: Ed25519FieldElement
    var y: Ed25519FieldElement
    var z: Ed25519FieldElement
    var t: Ed25519FieldElement

    /// The neutral element (0, 1).
    static let identity = Ed25519Point(x: .zero, y: .one, z: .one, t: .zero)

    /// d = -121665 / 121666.
    static let d: Ed25519FieldElement = -(Ed25519FieldElement(121_665) * Ed25519FieldElement(121_666).inverted())
    /// 2·d, used by the addition formula.
    static let d2: Ed25519FieldElement = d + d

    /// The base point B (y = 4/5, x even), from its standard encoding.
    static let base: Ed25519Point = {
        let encoding: [UInt8] = [0x58] + [UInt8](repeating: 0x66, count: 31)
        guard let point = Ed25519Point(decoding: encoding) else {
            preconditionFailure("the Ed25519 base point encoding must decode")   // a constant of this file
        }
        return point
    }()

    init(x: Ed25519FieldElement, y: Ed25519FieldElement, z: Ed25519FieldElement, t: Ed25519FieldElement) {
        self.x = x
        self.y = y
        self.z = z
        self.t = t
    }

    /// Decodes a 32-byte point (RFC 8032 §5.1.3); nil when the bytes are no point on the curve,
    /// or when y is not below p. Decoding only ever sees public data (keys, signatures).
    init?(decoding bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        var yBytes = bytes
        let xSign = yBytes[31] >> 7
        yBytes[31] &= 0x7F
        let y = Ed25519FieldElement(bytes: yBytes)
        guard y.encoded() == yBytes else { return nil }   // y ≥ p is not a canonical encoding
        let yy = y.squared()
        let u = yy - .one
        let v = Self.d * yy + .one
        // x = u·v^3 · (u·v^7)^((p-5)/8)
        let v3 = v.squared() * v
        let v7 = v3.squared() * v
        var x = u * v3 * (u * v7).power(Ed25519FieldElement.pMinus5Over8)
        let vxx = v * x.squared()
        if vxx.equals(u) {
            // x is a root
        } else if vxx.equals(-u) {
            x = x * Ed25519FieldElement.sqrtMinusOne
        } else {
            return nil
        }
        if x.isZero && xSign == 1 { return nil }
        if (x.isNegative ? 1 : 0) != xSign { x = -x }
        self.init(x: x, y: y, z: .one, t: x * y)
    }

    /// The 32-byte encoding: y with the sign of x in the top bit.
    func encoded() -> [UInt8] {
        let zInverse = z.inverted()
        let affineX = x * zInverse
        let affineY = y * zInverse
        var out = affineY.encoded()
        out[31] |= (affineX.encoded()[0] & 1) << 7
        return out
    }

    /// self + other.
    func adding(_ other: Ed25519Point) -> Ed25519Point {
        let a = (y - x) * (other.y - other.x)
        let b = (y + x) * (other.y + other.x)
        let c = t * Self.d2 * other.t
        let zz = z * other.z
        let dd = zz + zz
        let e = b - a
        let f = dd - c
        let g = dd + c
        let h = b + a
        return Ed25519Point(x: e * f, y: g * h, z: f * g, t: e * h)
    }

    /// 2 · self.
    func doubled() -> Ed25519Point {
        let a = x.squared()
        let b = y.squared()
        let zz = z.squared()
        let c = zz + zz
        let h = a + b
        let e = h - (x + y).squared()
        let g = a - b
        let f = c + g
        return Ed25519Point(x: e * f, y: g * h, z: f * g, t: e * h)
    }

    /// -self.
    func negated() -> Ed25519Point {
        Ed25519Point(x: -x, y: y, z: z, t: -t)
    }

    /// Swaps `a` and `b` when `bit` is 1, without branching on it.
    @inline(__always)
    static func conditionalSwap(_ a: inout Ed25519Point, _ b: inout Ed25519Point, _ bit: UInt64) {
        Ed25519FieldElement.conditionalSwap(&a.x, &b.x, bit)
        Ed25519FieldElement.conditionalSwap(&a.y, &b.y, bit)
        Ed25519FieldElement.conditionalSwap(&a.z, &b.z, bit)
        Ed25519FieldElement.conditionalSwap(&a.t, &b.t, bit)
    }

    /// scalar · self for a secret scalar (32 little-endian bytes): a Montgomery ladder over all
    /// 256 bits with a masked swap per bit, so the sequence of operations and memory accesses is
    /// the same for every scalar.
    func multiplied(bySecret scalar: [UInt8]) -> Ed25519Point {
        var r0 = Self.identity
        var r1 = self
        for bit in stride(from: 255, through: 0, by: -1) {
            let b = UInt64((scalar[bit >> 3] >> UInt8(bit & 7)) & 1)
            Self.conditionalSwap(&r0, &r1, b)
            r1 = r0.adding(r1)
            r0 = r0.doubled()
            Self.conditionalSwap(&r0, &r1, b)
        }
        return r0
    }

    /// a·A + b·B for public scalars (verification only): variable time.
    static func publicDoubleMultiply(_ a: [UInt8], _ pointA: Ed25519Point, _ b: [UInt8], _ pointB: Ed25519Point) -> Ed25519Point {
        var q = identity
        for bit in stride(from: 255, through: 0, by: -1) {
            q = q.doubled()
            if (a[bit >> 3] >> UInt8(bit & 7)) & 1 == 1 { q = q.adding(pointA) }
            if (b[bit >> 3] >> UInt8(bit & 7)) & 1 == 1 { q = q.adding(pointB) }
        }
        return q
    }
}
