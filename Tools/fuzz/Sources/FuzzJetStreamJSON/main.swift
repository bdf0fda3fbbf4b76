import Foundation
import FuzzSupport
@testable import TributaryJetStream

// The JetStream API's server JSON, through the entry point every API call decodes its reply with
// (JetStreamContext.decodeResponse: the error envelope, then the generated response type), the
// PubAck fast path (which must agree with the full decoder whenever it answers), object-store
// metadata and the message metadata in ack reply subjects.
//
// Input: [type selector][JSON or reply subject bytes...].
//
// Built with -enable-testing (Tools/fuzz.sh passes it) to reach the internal entry points.

/// Decodes `payload` as `Response` the way the client does; the result is dropped.
func decode<Response: Decodable>(_ type: Response.Type, _ payload: [UInt8]) {
    _ = try? JetStreamContext.decodeResponse(payload, as: type, apiSubject: "$JS.API.FUZZ", stream: nil, consumer: nil)
}

let responseDecoders: [@Sendable ([UInt8]) -> Void] = [
    { decode(PubAck.self, $0) },
    { decode(StreamInfo.self, $0) },
    { decode(ConsumerInfo.self, $0) },
    { decode(AccountInfoResponse.self, $0) },
    { decode(StreamListResponse.self, $0) },
    { decode(StreamNamesResponse.self, $0) },
    { decode(ConsumerListResponse.self, $0) },
    { decode(ConsumerNamesResponse.self, $0) },
    { decode(MessageGetResponse.self, $0) },
    { decode(StreamPurgeResponse.self, $0) },
    { decode(SuccessResponse.self, $0) },
    { decode(MaxDeliveriesAdvisory.self, $0) },
]

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> Int32 {
    writeSeedsIfAsked {
        let json: [(UInt8, String)] = [
            (0, #"{"stream":"ORDERS","seq":42}"#),
            (0, #"{"stream":"ORDERS","seq":43,"domain":"hub","duplicate":true}"#),
            (0, #"{"error":{"code":503,"err_code":10039,"description":"jetstream not enabled"}}"#),
            (1, #"{"type":"io.nats.jetstream.api.v1.stream_info_response","config":{"name":"ORDERS","subjects":["orders.>"],"retention":"limits","max_consumers":-1,"max_msgs":-1,"max_bytes":-1,"max_age":0,"max_msg_size":-1,"storage":"file","discard":"old","num_replicas":1,"duplicate_window":120000000000},"created":"2024-01-02T03:04:05.123456789Z","state":{"messages":3,"bytes":120,"first_seq":1,"first_ts":"2024-01-02T03:04:05Z","last_seq":3,"last_ts":"2024-01-02T03:04:06Z","consumer_count":1}}"#),
            (2, #"{"stream_name":"ORDERS","name":"C1","created":"2024-01-02T03:04:05Z","config":{"durable_name":"C1","deliver_policy":"all","ack_policy":"explicit","ack_wait":30000000000,"max_deliver":-1,"replay_policy":"instant"},"delivered":{"consumer_seq":1,"stream_seq":1},"ack_floor":{"consumer_seq":0,"stream_seq":0},"num_ack_pending":1,"num_redelivered":0,"num_waiting":0,"num_pending":2}"#),
            (5, #"{"total":2,"offset":0,"limit":1024,"streams":["A","B"]}"#),
            (8, #"{"message":{"subject":"orders.1","seq":1,"hdrs":"TkFUUy8xLjANCkE6IGINCg0K","data":"aGVsbG8=","time":"2024-01-02T03:04:05Z"}}"#),
            (9, #"{"success":true,"purged":3}"#),
            (12, #"{"name":"obj","bucket":"B","nuid":"N1","size":5,"chunks":1,"digest":"SHA-256=LPJNul-wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=","mtime":"2024-01-02T03:04:05Z"}"#),
            (13, "$JS.ACK.ORDERS.C1.1.2.3.1700000000000000000.4"),
            (13, "$JS.ACK.hub.acchash.ORDERS.C1.1.2.3.1700000000000000000.4.token"),
        ]
        return json.map { [$0.0] + Array($0.1.utf8) }
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(fuzzBytes(data, size))
    let selector = Int(input.byte()) % (responseDecoders.count + 2)
    let bytes = input.rest
    switch selector {
    case 0:
        responseDecoders[0](bytes)
        if let fast = PubAckFastPath.parse(bytes) {
            let full = try? JSONDecoder().decode(PubAck.self, from: Data(bytes))
            fuzzCheck(full == fast, "the PubAck fast path read \(fast), JSONDecoder \(String(describing: full))")
        }
    case responseDecoders.count:
        _ = try? ObjectInfo.decode(bytes, bucket: "B")
    case responseDecoders.count + 1:
        _ = JetStreamMessageMetadata(replySubject: String(decoding: bytes, as: UTF8.self))
    default:
        responseDecoders[selector](bytes)
    }
    return 0
}
