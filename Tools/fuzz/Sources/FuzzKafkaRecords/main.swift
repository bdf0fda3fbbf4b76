import FuzzSupport
import TributaryKafkaProtocol
import TributaryCompression

// Record batches (magic 2) and legacy message sets (magic 0 and 1), as a Fetch response's
// records field carries them, through KafkaRecordBatchDecoder.
//
// Input: [options][records bytes...]. Options: bit 0 skips the CRC check (so mutations reach
// the record decoding), bit 1 keeps control records, bits 2-3 pick the decompression limit.
// The records of a compressed batch must fit in that limit.

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    writeSeedsIfAsked {
        // One batch per codec, from the encoder the producer uses.
        var seeds: [[UInt8]] = []
        let records = [
            KafkaRecord(offset: 0, timestamp: 1_700_000_000_000, key: Array("key-1".utf8), value: Array("value one".utf8),
                        headers: [(key: "trace", value: Array("abc".utf8)), (key: "empty", value: nil)]),
            KafkaRecord(offset: 1, timestamp: 1_700_000_000_005, key: nil, value: Array(repeating: 0x61, count: 200)),
            KafkaRecord(offset: 2, timestamp: 1_700_000_000_009, key: Array("k".utf8), value: nil),
        ]
        for codec in KafkaCompressionCodec.allCases {
            var encoder = KafkaRecordBatchEncoder(compression: codec)
            encoder.producerID = 7
            encoder.producerEpoch = 1
            encoder.baseSequence = 0
            if let bytes = try? encoder.encode(records) {
                seeds.append([0] + bytes)
                seeds.append([1] + bytes + bytes)
            }
        }
        return seeds
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(fuzzBytes(data, size))
    let options = input.byte()
    let limit = [KafkaRecordBatchDecoder.defaultMaxDecompressedBatchBytes, 4096, 64, 0][Int((options >> 2) & 3)]
    var decoder = KafkaRecordBatchDecoder(maxDecompressedBatchBytes: limit)
    decoder.verifiesCRC = options & 1 == 0
    decoder.keepsControlRecords = options & 2 != 0
    let bytes = input.rest

    _ = KafkaRecordBatchDecoder.nextOffset(afterBatchesIn: bytes)
    guard let set = try? decoder.decode(bytes) else { return 0 }
    fuzzCheck(set.truncatedByteCount >= 0 && set.truncatedByteCount <= bytes.count,
              "truncatedByteCount \(set.truncatedByteCount) for \(bytes.count) input bytes")
    for batch in set.batches where batch.attributes.compression.map({ $0 != .none }) ?? false {
        let payload = batch.records.reduce(0) { $0 + ($1.key?.count ?? 0) + ($1.value?.count ?? 0) }
        fuzzCheck(payload <= limit, "a compressed batch produced \(payload) bytes of keys and values past the \(limit)-byte limit")
    }
    return 0
}
