// SHA-256 and SHA-512 (FIPS 180-4), written from the standard.
import CTributaryAccel

/// SHA-256 (FIPS 180-4).
public struct SHA256: HashFunction {
    public static var blockSize: Int { 64 }
    public static var digestSize: Int { 32 }

    private typealias Words = (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)
    private var state: Words =
        (0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19)
    private var blocks = BlockBuffer(blockSize: 64)

    public init() {}

    /// Whether this CPU's SHA-256 instructions are used (x86-64 SHA extensions, chosen at run
    /// time); otherwise the portable compression function runs. Both give the same digests.
    public static let usesHardware = tributary_sha256_hw_available() != 0

    /// Set to hash with the portable code even where the instructions exist (tests compare both).
    public var portableOnly = false

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var words = state
        let hardware = Self.usesHardware && !portableOnly
        blocks.absorb(bytes, wholeRuns: hardware) { hardware ? Self.compressInHardware(&words, $0) : Self.compress(&words, $0) }
        state = words
    }

    public mutating func finalize(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= 32, "a SHA-256 digest needs 32 bytes")
        var words = state
        let hardware = Self.usesHardware && !portableOnly
        blocks.pad(lengthFieldSize: 8) { hardware ? Self.compressInHardware(&words, $0) : Self.compress(&words, $0) }
        state = words
        withUnsafeBytes(of: words) { raw in
            for i in 0..<8 {
                output.storeBytes(of: raw.load(fromByteOffset: 4 * i, as: UInt32.self).bigEndian, toByteOffset: 4 * i, as: UInt32.self)
            }
        }
    }

    private static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]

    @inline(__always)
    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 &- n)) }

    private static func compressInHardware(_ state: inout Words, _ block: UnsafeRawBufferPointer) {
        guard let base = block.baseAddress else { return }
        withUnsafeMutableBytes(of: &state) { raw in
            tributary_sha256_hw(raw.baseAddress!.assumingMemoryBound(to: UInt32.self), base, block.count / 64)
        }
    }

    private static func compress(_ state: inout Words, _ block: UnsafeRawBufferPointer) {
        // The message schedule lives on the stack and the constants are read through a buffer
        // pointer: no allocation or bounds check per block. The rotations are concrete UInt32
        // functions (not the generic helper) so that unoptimized builds hash at a usable speed.
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            k.withUnsafeBufferPointer { k in
                let bytes = block.bindMemory(to: UInt8.self)
                for i in 0..<16 {
                    w[i] = UInt32(bytes[4 &* i]) << 24 | UInt32(bytes[4 &* i &+ 1]) << 16 | UInt32(bytes[4 &* i &+ 2]) << 8 | UInt32(bytes[4 &* i &+ 3])
                }
                for i in 16..<64 {
                    let a = w[i &- 15], b = w[i &- 2]
                    let s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >> 3)
                    let s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >> 10)
                    w[i] = w[i &- 16] &+ s0 &+ w[i &- 7] &+ s1
                }
                var (a, b, c, d, e, f, g, h) = state
                for i in 0..<64 {
                    let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ s1 &+ ch &+ k[i] &+ w[i]
                    let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = s0 &+ maj
                    h = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
                }
                state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h)
            }
        }
    }
}

/// SHA-512 (FIPS 180-4).
public struct SHA512: HashFunction {
    public static var blockSize: Int { 128 }
    public static var digestSize: Int { 64 }

    private typealias Words = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
    private var state: Words = (
        0x6a09_e667_f3bc_c908, 0xbb67_ae85_84ca_a73b, 0x3c6e_f372_fe94_f82b, 0xa54f_f53a_5f1d_36f1,
        0x510e_527f_ade6_82d1, 0x9b05_688c_2b3e_6c1f, 0x1f83_d9ab_fb41_bd6b, 0x5be0_cd19_137e_2179
    )
    private var blocks = BlockBuffer(blockSize: 128)

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var words = state
        blocks.absorb(bytes) { Self.compress(&words, $0) }
        state = words
    }

    public mutating func finalize(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= 64, "a SHA-512 digest needs 64 bytes")
        var words = state
        blocks.pad(lengthFieldSize: 16) { Self.compress(&words, $0) }
        state = words
        withUnsafeBytes(of: words) { raw in
            for i in 0..<8 {
                output.storeBytes(of: raw.load(fromByteOffset: 8 * i, as: UInt64.self).bigEndian, toByteOffset: 8 * i, as: UInt64.self)
            }
        }
    }

    private static let k: [UInt64] = [
        0x428a_2f98_d728_ae22, 0x7137_4491_23ef_65cd, 0xb5c0_fbcf_ec4d_3b2f, 0xe9b5_dba5_8189_dbbc, 0x3956_c25b_f348_b538,
        0x59f1_11f1_b605_d019, 0x923f_82a4_af19_4f9b, 0xab1c_5ed5_da6d_8118, 0xd807_aa98_a303_0242, 0x1283_5b01_4570_6fbe,
        0x2431_85be_4ee4_b28c, 0x550c_7dc3_d5ff_b4e2, 0x72be_5d74_f27b_896f, 0x80de_b1fe_3b16_96b1, 0x9bdc_06a7_25c7_1235,
        0xc19b_f174_cf69_2694, 0xe49b_69c1_9ef1_4ad2, 0xefbe_4786_384f_25e3, 0x0fc1_9dc6_8b8c_d5b5, 0x240c_a1cc_77ac_9c65,
        0x2de9_2c6f_592b_0275, 0x4a74_84aa_6ea6_e483, 0x5cb0_a9dc_bd41_fbd4, 0x76f9_88da_8311_53b5, 0x983e_5152_ee66_dfab,
        0xa831_c66d_2db4_3210, 0xb003_27c8_98fb_213f, 0xbf59_7fc7_beef_0ee4, 0xc6e0_0bf3_3da8_8fc2, 0xd5a7_9147_930a_a725,
        0x06ca_6351_e003_826f, 0x1429_2967_0a0e_6e70, 0x27b7_0a85_46d2_2ffc, 0x2e1b_2138_5c26_c926, 0x4d2c_6dfc_5ac4_2aed,
        0x5338_0d13_9d95_b3df, 0x650a_7354_8baf_63de, 0x766a_0abb_3c77_b2a8, 0x81c2_c92e_47ed_aee6, 0x9272_2c85_1482_353b,
        0xa2bf_e8a1_4cf1_0364, 0xa81a_664b_bc42_3001, 0xc24b_8b70_d0f8_9791, 0xc76c_51a3_0654_be30, 0xd192_e819_d6ef_5218,
        0xd699_0624_5565_a910, 0xf40e_3585_5771_202a, 0x106a_a070_32bb_d1b8, 0x19a4_c116_b8d2_d0c8, 0x1e37_6c08_5141_ab53,
        0x2748_774c_df8e_eb99, 0x34b0_bcb5_e19b_48a8, 0x391c_0cb3_c5c9_5a63, 0x4ed8_aa4a_e341_8acb, 0x5b9c_ca4f_7763_e373,
        0x682e_6ff3_d6b2_b8a3, 0x748f_82ee_5def_b2fc, 0x78a5_636f_4317_2f60, 0x84c8_7814_a1f0_ab72, 0x8cc7_0208_1a64_39ec,
        0x90be_fffa_2363_1e28, 0xa450_6ceb_de82_bde9, 0xbef9_a3f7_b2c6_7915, 0xc671_78f2_e372_532b, 0xca27_3ece_ea26_619c,
        0xd186_b8c7_21c0_c207, 0xeada_7dd6_cde0_eb1e, 0xf57d_4f7f_ee6e_d178, 0x06f0_67aa_7217_6fba, 0x0a63_7dc5_a2c8_98a6,
        0x113f_9804_bef9_0dae, 0x1b71_0b35_131c_471b, 0x28db_77f5_2304_7d84, 0x32ca_ab7b_40c7_2493, 0x3c9e_be0a_15c9_bebc,
        0x431d_67c4_9c10_0d4c, 0x4cc5_d4be_cb3e_42b6, 0x597f_299c_fc65_7e2a, 0x5fcb_6fab_3ad6_faec, 0x6c44_198c_4a47_5817,
    ]

    @inline(__always)
    private static func rotr(_ x: UInt64, _ n: UInt64) -> UInt64 { (x >> n) | (x << (64 &- n)) }

    private static func compress(_ state: inout Words, _ block: UnsafeRawBufferPointer) {
        // As in SHA-256: the schedule on the stack, the constants through a buffer pointer.
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 80) { w in
            k.withUnsafeBufferPointer { k in
                let bytes = block.bindMemory(to: UInt8.self)
                for i in 0..<16 {
                    var word: UInt64 = 0
                    for j in 0..<8 { word = word << 8 | UInt64(bytes[8 &* i &+ j]) }
                    w[i] = word
                }
                for i in 16..<80 {
                    let a = w[i &- 15], b = w[i &- 2]
                    let s0 = rotr(a, 1) ^ rotr(a, 8) ^ (a >> 7)
                    let s1 = rotr(b, 19) ^ rotr(b, 61) ^ (b >> 6)
                    w[i] = w[i &- 16] &+ s0 &+ w[i &- 7] &+ s1
                }
                var (a, b, c, d, e, f, g, h) = state
                for i in 0..<80 {
                    let s1 = rotr(e, 14) ^ rotr(e, 18) ^ rotr(e, 41)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = h &+ s1 &+ ch &+ k[i] &+ w[i]
                    let s0 = rotr(a, 28) ^ rotr(a, 34) ^ rotr(a, 39)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    let t2 = s0 &+ maj
                    h = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
                }
                state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h)
            }
        }
    }
}

/// The block buffering and Merkle–Damgård padding SHA-256 and SHA-512 share: input is cut into
/// whole blocks for the compression function, the remainder waits for more.
///
/// The partial block lives inline (no heap storage), so copying a hash state — HMAC and PBKDF2
/// copy a keyed state for every message — and hashing short messages allocate nothing here.
struct BlockBuffer: Sendable {
    let blockSize: Int
    /// The partial block: the first `pendingCount` bytes (room for SHA-512's 128-byte block).
    private var pending = InlineArray<128, UInt8>(repeating: 0)
    private var pendingCount = 0
    /// Bytes absorbed so far (messages here stay far below 2^64 bits).
    private var length: UInt64 = 0

    init(blockSize: Int) {
        precondition(blockSize == 64 || blockSize == 128, "SHA-2 blocks are 64 or 128 bytes")
        self.blockSize = blockSize
    }

    /// Feeds `bytes`, calling `compress` with every completed block.
    /// `wholeRuns`: hand `compress` every run of whole blocks at once (a multiple of the block
    /// size), not one block per call.
    mutating func absorb(_ bytes: UnsafeRawBufferPointer, wholeRuns: Bool = false, _ compress: (UnsafeRawBufferPointer) -> Void) {
        length &+= UInt64(bytes.count)
        var offset = 0
        if pendingCount > 0 {
            let take = min(blockSize - pendingCount, bytes.count)
            keep(UnsafeRawBufferPointer(rebasing: bytes[0..<take]))
            offset = take
            guard pendingCount == blockSize else { return }
            compressPending(compress)
        }
        if wholeRuns {
            let run = (bytes.count - offset) / blockSize * blockSize
            if run > 0 { compress(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + run)])) }
            offset += run
        }
        while bytes.count - offset >= blockSize {
            compress(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + blockSize)]))
            offset += blockSize
        }
        keep(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
    }

    /// Appends 0x80, zeros, and the message length in bits as a big-endian field of
    /// `lengthFieldSize` bytes, compressing the final block(s).
    mutating func pad(lengthFieldSize: Int, _ compress: (UnsafeRawBufferPointer) -> Void) {
        let bitLength = length &* 8
        let size = blockSize
        var used = pendingCount
        withUnsafeMutableBytes(of: &pending) { block in
            block[used] = 0x80
            used += 1
            if used > size - lengthFieldSize {
                // No room for the length field: zero-fill this block and use one more.
                for i in used..<size { block[i] = 0 }
                compress(UnsafeRawBufferPointer(rebasing: block[0..<size]))
                used = 0
            }
            for i in used..<(size - 8) { block[i] = 0 }
            for i in 0..<8 { block[size - 8 + i] = UInt8(truncatingIfNeeded: bitLength >> UInt64(56 - 8 * i)) }
            compress(UnsafeRawBufferPointer(rebasing: block[0..<size]))
        }
        pendingCount = 0
    }

    private mutating func keep(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        let at = pendingCount
        withUnsafeMutableBytes(of: &pending) { block in
            (block.baseAddress! + at).copyMemory(from: source, byteCount: bytes.count)
        }
        pendingCount += bytes.count
    }

    private mutating func compressPending(_ compress: (UnsafeRawBufferPointer) -> Void) {
        let size = blockSize
        withUnsafeBytes(of: &pending) { compress(UnsafeRawBufferPointer(rebasing: $0[0..<size])) }
        pendingCount = 0
    }
}
