// Little helpers for reading and copying bytes through raw pointers in the codecs' hot loops.
// Every caller checks bounds before using them; they never check on their own.

extension UnsafeRawPointer {
    @inline(__always) func byte(_ offset: Int) -> UInt8 {
        load(fromByteOffset: offset, as: UInt8.self)
    }

    @inline(__always) func le16(_ offset: Int) -> UInt16 {
        UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always) func le32(_ offset: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always) func le64(_ offset: Int) -> UInt64 {
        UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    @inline(__always) func be32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}

extension UnsafeMutableRawPointer {
    @inline(__always) func setByte(_ value: UInt8, at offset: Int) {
        storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
    }

    @inline(__always) func setLE16(_ value: UInt16, at offset: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt16.self)
    }

    @inline(__always) func setLE32(_ value: UInt32, at offset: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inline(__always) func setLE64(_ value: UInt64, at offset: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
    }

    @inline(__always) func setBE32(_ value: UInt32, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inline(__always) func copy8(from source: UnsafeRawPointer, _ sourceOffset: Int, to offset: Int) {
        storeBytes(of: source.loadUnaligned(fromByteOffset: sourceOffset, as: UInt64.self), toByteOffset: offset, as: UInt64.self)
    }
}

/// Copies `length` literal bytes from `source + sourceOffset` to `base + op`.
/// With 16 readable bytes at the source and 16 writable bytes at the destination, short
/// copies use two 8-byte moves instead of a `memcpy` call (the extra bytes are rewritten later
/// or trimmed away).
@inline(__always)
func copyLiterals(
    _ base: UnsafeMutableRawPointer, at op: Int, from source: UnsafeRawPointer, _ sourceOffset: Int,
    length: Int, sourceSlack: Bool, bufferEnd: Int
) {
    if length <= 16 && sourceSlack && op + 16 <= bufferEnd {
        base.copy8(from: source, sourceOffset, to: op)
        base.copy8(from: source, sourceOffset + 8, to: op + 8)
    } else {
        (base + op).copyMemory(from: source + sourceOffset, byteCount: length)
    }
}

/// Copies an LZ77 match of `length` bytes starting `offset` bytes back, where source and
/// destination may overlap (offset < length repeats the pattern). `bufferEnd` is the end of
/// writable memory; 8-byte chunks may write up to 7 bytes past the match when it allows.
@inline(__always)
func copyMatch(_ base: UnsafeMutableRawPointer, at op: Int, offset: Int, length: Int, bufferEnd: Int) {
    if offset >= 8 && op + length + 8 <= bufferEnd {
        var source = op - offset
        var dest = op
        let end = op + length
        repeat {
            base.copy8(from: UnsafeRawPointer(base), source, to: dest)
            source += 8
            dest += 8
        } while dest < end
    } else if offset >= length {
        (base + op).copyMemory(from: UnsafeRawPointer(base + (op - offset)), byteCount: length)
    } else if offset == 1 {
        let value = base.load(fromByteOffset: op - 1, as: UInt8.self)
        (base + op).initializeMemory(as: UInt8.self, repeating: value, count: length)
    } else {
        var index = op
        let end = op + length
        while index < end {
            base.setByte(base.load(fromByteOffset: index - offset, as: UInt8.self), at: index)
            index += 1
        }
    }
}
