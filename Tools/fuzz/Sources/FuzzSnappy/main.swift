import FuzzCodecSupport
import FuzzSupport
import TributaryCompression

// The Snappy decompressor (and compressor) of TributaryCompression; see checkCodec for the input
// layout and the invariants.

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    writeSeedsIfAsked { codecSeeds(SnappyCodec(framing: .raw)) + codecSeeds(SnappyCodec(framing: .xerial)).map { [0x80] + $0.dropFirst() } }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = fuzzBytes(data, size)
    checkCodec((input.first ?? 0) & 0x80 == 0 ? SnappyCodec(framing: .raw) : SnappyCodec(framing: .xerial), input: input)
    return 0
}
