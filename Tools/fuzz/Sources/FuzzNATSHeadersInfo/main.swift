import FuzzSupport
import TributaryNATSProtocol
import TributaryWire

// NATS header blocks, INFO JSON and the bounded JSON reader under them.
//
// Input: [decoder selector][bytes...]: 0 = NATSHeaders.parse, 1 = NATSServerInfo.decode,
// 2 = JSONValue.parse. Parsed headers must survive encode → parse unchanged.

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    writeSeedsIfAsked {
        let headers = [
            "NATS/1.0\r\nA: b\r\nC: d\r\n\r\n",
            "NATS/1.0 503\r\n\r\n",
            "NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 1\r\nNats-Pending-Bytes: 0\r\n\r\n",
            "NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 12\r\nNats-Last-Stream: 40\r\n\r\n",
        ]
        let json = [
            #"{"server_id":"NCXJ","server_name":"n1","version":"2.10.22","proto":1,"go":"go1.22","host":"0.0.0.0","port":4222,"headers":true,"max_payload":1048576,"jetstream":true,"client_id":5,"client_ip":"127.0.0.1","nonce":"abcDEF","connect_urls":["10.0.0.1:4222","[::1]:4222"],"ldm":false,"tls_available":true}"#,
            #"{"auth_required":true,"tls_required":false,"xkey":"XABC","nested":{"a":[1,2.5e3,-0,true,false,null,"\u00e9\n"]}}"#,
        ]
        return headers.map { [0] + Array($0.utf8) } + json.map { [1] + Array($0.utf8) } + json.map { [2] + Array($0.utf8) }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(fuzzBytes(data, size))
    let selector = input.byte() % 3
    let bytes = input.rest
    bytes.withUnsafeBytes { raw in
        switch selector {
        case 0:
            guard let headers = try? NATSHeaders.parse(raw, offset: 0) else { return }
            let encoded = headers.encoded
            fuzzCheck(encoded.count == headers.wireSize, "wireSize \(headers.wireSize) but \(encoded.count) bytes encoded")
            let again = encoded.withUnsafeBytes { try? NATSHeaders.parse($0, offset: 0) }
            fuzzCheck(again == headers, "headers \(headers.entries) status \(String(describing: headers.status)) do not survive encode → parse: \(String(describing: again))")
        case 1:
            _ = try? NATSServerInfo.decode(json: raw, offset: 0)
        default:
            _ = try? JSONValue.parse(raw)
        }
    }
    return 0
}
