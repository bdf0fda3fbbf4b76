// Run-time selected hardware paths for CRC-32C and SHA-256 (see include/CTributaryAccel.h).
#include "CTributaryAccel.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

int tributary_crc32c_hw_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2") ? 1 : 0;
}

__attribute__((target("sse4.2")))
uint32_t tributary_crc32c_hw(uint32_t crc, const void *data, size_t count) {
    const unsigned char *p = (const unsigned char *)data;
#if defined(__x86_64__)
    uint64_t wide = crc;
    while (count >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        wide = _mm_crc32_u64(wide, word);
        p += 8;
        count -= 8;
    }
    crc = (uint32_t)wide;
#endif
    while (count > 0) {
        crc = _mm_crc32_u8(crc, *p);
        p++;
        count--;
    }
    return crc;
}

int tributary_sha256_hw_available(void) {
    __builtin_cpu_init();
    return (__builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("ssse3")) ? 1 : 0;
}

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// The SHA instructions keep the state as two vectors, (A, B, E, F) and (C, D, G, H), each with
// its first-named word in the highest lane. `_mm_sha256rnds2_epu32(cdgh, abef, wk)` runs two
// rounds with the low two lanes of `wk` (message word plus constant) and returns the new
// (A, B, E, F); the old (A, B, E, F) is then the new (C, D, G, H).
__attribute__((target("sha,sse4.1,ssse3")))
void tributary_sha256_hw(uint32_t state[8], const void *data, size_t blocks) {
    // Byte order: message words are big-endian.
    const __m128i swap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    // state[0..3] = a, b, c, d (a in lane 0); state[4..7] = e, f, g, h.
    __m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);
    __m128i badc = _mm_shuffle_epi32(dcba, 0xB1);       // lanes: b, a, d, c
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);       // lanes: h, g, f, e
    __m128i abef = _mm_alignr_epi8(badc, efgh, 8);      // lanes: f, e, b, a
    __m128i cdgh = _mm_blend_epi16(efgh, badc, 0xF0);   // lanes: h, g, d, c
    const unsigned char *p = (const unsigned char *)data;
    while (blocks > 0) {
        const __m128i abef_start = abef, cdgh_start = cdgh;
        __m128i w[16];
        for (int i = 0; i < 4; i++) {
            w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), swap);
        }
        for (int i = 4; i < 16; i++) {
            // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], four at a time.
            __m128i partial = _mm_add_epi32(_mm_sha256msg1_epu32(w[i - 4], w[i - 3]), _mm_alignr_epi8(w[i - 1], w[i - 2], 4));
            w[i] = _mm_sha256msg2_epu32(partial, w[i - 1]);
        }
        for (int i = 0; i < 16; i++) {
            __m128i wk = _mm_add_epi32(w[i], _mm_loadu_si128((const __m128i *)&sha256_k[4 * i]));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
            // cdgh now holds the new (A, B, E, F); abef the new (C, D, G, H).
            wk = _mm_shuffle_epi32(wk, 0x0E);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, wk);
            // abef: new (A, B, E, F); cdgh: new (C, D, G, H).
        }
        abef = _mm_add_epi32(abef, abef_start);
        cdgh = _mm_add_epi32(cdgh, cdgh_start);
        p += 64;
        blocks--;
    }
    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);       // lanes: a, b, e, f
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);       // lanes: g, h, c, d
    dcba = _mm_blend_epi16(feba, dchg, 0xF0);           // lanes: a, b, c, d
    hgfe = _mm_alignr_epi8(dchg, feba, 8);              // lanes: e, f, g, h
    _mm_storeu_si128((__m128i *)&state[0], dcba);
    _mm_storeu_si128((__m128i *)&state[4], hgfe);
}

#else

int tributary_crc32c_hw_available(void) { return 0; }
uint32_t tributary_crc32c_hw(uint32_t crc, const void *data, size_t count) { (void)data; (void)count; return crc; }
int tributary_sha256_hw_available(void) { return 0; }
void tributary_sha256_hw(uint32_t state[8], const void *data, size_t blocks) { (void)state; (void)data; (void)blocks; }

#endif
