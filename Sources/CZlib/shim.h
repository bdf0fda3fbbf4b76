#include <zlib.h>

// zlib's init entry points are macros that pass ZLIB_VERSION and sizeof(z_stream);
// Swift cannot call macros, so these inline wrappers do it for TributaryCompression.
static inline int tributary_inflateInit2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

static inline int tributary_deflateInit2(z_streamp stream, int level, int windowBits) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
