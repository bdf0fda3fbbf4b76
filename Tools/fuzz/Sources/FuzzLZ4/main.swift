import FuzzCodecSupport
import FuzzSupport
import TributaryCompression

// The LZ4 decompressor (and compressor) of TributaryCompression; see checkCodec for the input
// layout and the invariants.

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    writeSeedsIfAsked { codecSeeds(LZ4Codec()) }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    checkCodec(LZ4Codec(), input: input)
    return 0
}
