import FuzzSupport
import TributaryNATSProtocol

// NATSParser: the same bytes fed whole, split at one point and one byte at a time must give the
// same frames and the same error (code and stream offset).
//
// Input: [split selector][limits selector][protocol bytes...]

/// What a parser made of a byte stream: the frames in order, then the error that stopped it.
struct ParseOutcome: Equatable {
    var ops: [NATSServerOp] = []
    var error: String?
}

func parse(_ chunks: [ArraySlice<UInt8>], maxControlLine: Int, maxPayload: Int) -> ParseOutcome {
    var parser = NATSParser(maxControlLine: maxControlLine, maxPayload: maxPayload, initialCapacity: 256)
    var outcome = ParseOutcome()
    for chunk in chunks {
        parser.append(Array(chunk))
        do {
            while let op = try parser.next() { outcome.ops.append(op) }
        } catch {
            outcome.error = "\(error.code) at \(error.offset)"
            return outcome
        }
    }
    return outcome
}

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    writeSeedsIfAsked {
        let transcripts = [
            "INFO {\"server_id\":\"N1\",\"version\":\"2.10.0\",\"max_payload\":1048576,\"headers\":true}\r\nPING\r\n",
            "MSG orders.new 1 5\r\nhello\r\nMSG orders.new 1 _INBOX.abc 3\r\nabc\r\n+OK\r\nPONG\r\n",
            "HMSG orders.new 2 22 27\r\nNATS/1.0\r\nA: b\r\nC: d\r\n\r\nhello\r\n",
            "HMSG _INBOX.x 3 reply.to 16 16\r\nNATS/1.0 503\r\n\r\n\r\n",
            "-ERR 'Authorization Violation'\r\n-ERR 'Unknown Protocol Operation'\r\n",
            "INFO {\"server_id\":\"N2\",\"connect_urls\":[\"10.0.0.1:4222\"],\"ldm\":true,\"nonce\":\"abc\"}\r\n",
        ]
        return transcripts.flatMap { text -> [[UInt8]] in
            [[0x80, 0x00] + Array(text.utf8), [0x05, 0x01] + Array(text.utf8), [0x00, 0x02] + Array(text.utf8)]
        }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(fuzzBytes(data, size))
    let splitSelector = Int(input.byte())
    let limits = input.byte()
    let maxControlLine = [4096, 64, 16, 1024][Int(limits & 3)]
    let maxPayload = [1 << 20, 64, 0, 4096][Int((limits >> 2) & 3)]
    let bytes = input.rest

    let whole = parse([bytes[...]], maxControlLine: maxControlLine, maxPayload: maxPayload)
    let split = bytes.isEmpty ? 0 : splitSelector % (bytes.count + 1)
    let halves = parse([bytes[..<split], bytes[split...]], maxControlLine: maxControlLine, maxPayload: maxPayload)
    fuzzCheck(halves == whole, "split at \(split) gives \(halves), whole input gives \(whole)")
    let single = parse(bytes.indices.map { bytes[$0...$0] }, maxControlLine: maxControlLine, maxPayload: maxPayload)
    fuzzCheck(single == whole, "byte-at-a-time gives \(single), whole input gives \(whole)")
    return 0
}
