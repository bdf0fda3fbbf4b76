import FuzzCodecSupport
import FuzzSupport
import TributaryCompression

// The Zstd decompressor (and compressor) of TributaryCompression; see checkCodec for the input
// layout and the invariants.

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    writeSeedsIfAsked { codecSeeds(ZstdCodec()) }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    checkCodec(ZstdCodec(), input: input)
    return 0
}
