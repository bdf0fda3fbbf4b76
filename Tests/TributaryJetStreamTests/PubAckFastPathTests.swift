import Foundation
import Testing
@testable import TributaryJetStream

@Suite("Publish acknowledgement fast path")
struct PubAckFastPathTests {
    @Test("the server's compact acknowledgements read the same as through JSONDecoder", arguments: [
        #"{"stream":"ORDERS","seq":1}"#,
        #"{"stream":"ORDERS","seq":18446744073709551615}"#,
        #"{"stream":"S-1_x","seq":42,"duplicate":true}"#,
        #"{"stream":"S","seq":7,"domain":"hub"}"#,
        #"{"stream":"S","seq":7,"domain":"hub","duplicate":true}"#,
        #"{"stream":"Zürich","seq":3}"#,
    ])
    func same(json: String) throws {
        let fast = try #require(PubAckFastPath.parse(Array(json.utf8)))
        let slow = try JSONDecoder().decode(PubAck.self, from: Data(json.utf8))
        #expect(fast == slow)
    }

    @Test("anything else is left to the decoder", arguments: [
        #"{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 4"}}"#,
        #"{"stream":"S","seq":1,"val":"10"}"#,
        #"{"stream":"S", "seq":1}"#,
        #"{"stream":"a\"b","seq":1}"#,
        #"{"stream":"S","seq":01}"#,
        #"{"stream":"S","seq":18446744073709551616}"#,
        #"{"stream":"S","seq":-1}"#,
        #"{"stream":"","seq":1}"#,
        #"{"stream":"S","seq":1}x"#,
        #"{"stream":"S","seq":1"#,
        "",
    ])
    func fallback(json: String) {
        #expect(PubAckFastPath.parse(Array(json.utf8)) == nil)
    }
}
