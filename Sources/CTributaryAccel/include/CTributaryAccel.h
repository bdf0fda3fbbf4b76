// Hardware paths for two hot checksums, chosen at run time: CRC-32C with the SSE4.2 `crc32`
// instruction and SHA-256 with the x86 SHA extensions. Each has a portable Swift path beside it
// (TributaryWire.CRC32C, TributaryCrypto.SHA256) that gives the same results; the Swift code
// calls these only when the matching `_available` function returns 1.
#ifndef C_TRIBUTARY_ACCEL_H
#define C_TRIBUTARY_ACCEL_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has the CRC-32C instruction (x86-64 SSE4.2), else 0.
int tributary_crc32c_hw_available(void);

/// Advances a CRC-32C register (reflected Castagnoli polynomial, before the final XOR) over
/// `count` bytes at `data`. Call only when tributary_crc32c_hw_available() returned 1.
uint32_t tributary_crc32c_hw(uint32_t crc, const void *data, size_t count);

/// 1 when this CPU has the SHA-256 instructions (x86-64 SHA extensions with SSE4.1), else 0.
int tributary_sha256_hw_available(void);

/// Runs the SHA-256 compression function over `blocks` 64-byte blocks at `data`, updating the
/// eight state words (a to h, in that order). Call only when tributary_sha256_hw_available()
/// returned 1.
void tributary_sha256_hw(uint32_t state[8], const void *data, size_t blocks);

#endif
