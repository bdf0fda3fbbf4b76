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

    @Test("a stream name that is not valid UTF-8 is left to the decoder, which refuses it (fuzz fixture)")
    func invalidUTF8() throws {
        let payload = try fuzzFixture("jetstream-json/pub-ack-invalid-utf8")
        #expect(PubAckFastPath.parse(payload) == nil)
        do {
            _ = try JetStreamContext.decodeResponse(payload, as: PubAck.self, apiSubject: "$JS.API.STREAM.INFO.ORDERS", stream: nil, consumer: nil)
            Issue.record("a PubAck with an invalid UTF-8 stream name decoded")
        } catch {
            #expect(error.code == .invalidResponse)
        }
    }
}

/// Bytes of a fuzz fixture under `Tests/Fixtures/fuzz` (see its README), found upward from this file.
func fuzzFixture(_ name: String, from file: String = #filePath) throws -> [UInt8] {
    var directory = URL(fileURLWithPath: file).deletingLastPathComponent()
    while directory.path != "/" {
        let candidate = directory.appendingPathComponent("Fixtures/fuzz").appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: candidate.path) {
            return [UInt8](try Data(contentsOf: candidate))
        }
        directory.deleteLastPathComponent()
    }
    throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Fixtures/fuzz/" + name])
}
