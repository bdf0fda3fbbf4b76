import FuzzSupport
import TributaryKafkaProtocol
import TributaryWire

// KafkaFrameDecoder (the size-prefixed frame splitter) and the response header read from each
// frame: whole, split at one point and byte-at-a-time input must give the same frames and error.
//
// Input: [split selector][max frame size selector][stream bytes...]

struct SplitOutcome: Equatable {
    var frames: [[UInt8]] = []
    var error: String?
}

func split(_ chunks: [ArraySlice<UInt8>], maxFrameSize: Int) -> SplitOutcome {
    var decoder = KafkaFrameDecoder(maxFrameSize: maxFrameSize)
    var outcome = SplitOutcome()
    for chunk in chunks {
        chunk.withUnsafeBytes { decoder.append($0) }
        do {
            while let frame = try decoder.next() { outcome.frames.append(frame) }
        } catch {
            outcome.error = "\(error.code) at \(error.offset)"
            return outcome
        }
    }
    let buffered = outcome.frames.reduce(0) { $0 + 4 + $1.count }
    fuzzCheck(decoder.bufferedByteCount == chunks.reduce(0) { $0 + $1.count } - buffered,
              "bufferedByteCount \(decoder.bufferedByteCount) after \(buffered) bytes of frames")
    return outcome
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    writeSeedsIfAsked {
        // A Heartbeat v0 response (correlation 7, error 27), a flexible header (v1) frame, and both back to back.
        let heartbeat: [UInt8] = [0, 0, 0, 6, 0, 0, 0, 7, 0, 27]
        let flexible: [UInt8] = [0, 0, 0, 11, 0, 0, 0, 8, 0, 0, 0, 0, 25, 0, 27, 0]
        return [[0x40, 0] + heartbeat, [0x03, 1] + flexible, [0x80, 0] + heartbeat + flexible + heartbeat]
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(fuzzBytes(data, size))
    let splitSelector = Int(input.byte())
    let maxFrameSize = [KafkaFrameDecoder.defaultMaxFrameSize, 64, 4, 1024][Int(input.byte() & 3)]
    let bytes = input.rest

    let whole = split([bytes[...]], maxFrameSize: maxFrameSize)
    let point = bytes.isEmpty ? 0 : splitSelector % (bytes.count + 1)
    let halves = split([bytes[..<point], bytes[point...]], maxFrameSize: maxFrameSize)
    fuzzCheck(halves == whole, "split at \(point) gives \(halves), whole input gives \(whole)")
    let single = split(bytes.indices.map { bytes[$0...$0] }, maxFrameSize: maxFrameSize)
    fuzzCheck(single == whole, "byte-at-a-time gives \(single), whole input gives \(whole)")

    for frame in whole.frames {
        fuzzCheck(frame.count <= maxFrameSize, "a frame of \(frame.count) bytes passed the \(maxFrameSize)-byte limit")
        for headerVersion: Int16 in 0...1 {
            var reader = ByteReader(frame)
            _ = try? KafkaResponseHeader(from: &reader, headerVersion: headerVersion)
        }
    }
    return 0
}
