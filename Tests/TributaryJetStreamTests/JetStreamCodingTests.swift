import Foundation
import Testing
@testable import TributaryJetStream

@Suite("JetStream JSON coding")
struct JetStreamCodingTests {
    @Test("durations travel as integer nanoseconds and nil fields are left out")
    func durations() throws {
        let config = StreamConfig(name: "S", maxAge: .seconds(90), duplicateWindow: .milliseconds(1500))
        let json = String(decoding: try JetStreamContext.makeEncoder().encode(config), as: UTF8.self)
        #expect(json == #"{"duplicate_window":1500000000,"max_age":90000000000,"name":"S"}"#)
        let back = try JSONDecoder().decode(StreamConfig.self, from: Data(json.utf8))
        #expect(back == config)
    }

    @Test("unknown keys and unknown enum values decode; base64 bytes decode")
    func lenientDecoding() throws {
        let json = #"{"subject":"a","seq":7,"data":"aGk=","time":"2026-01-01T00:00:00Z","future_key":{"x":1}}"#
        let stored = try JSONDecoder().decode(StoredMessage.self, from: Data(json.utf8))
        #expect(stored.data == Array("hi".utf8) && stored.sequence == 7 && stored.headers == nil)
        let retention = try JSONDecoder().decode(StreamConfig.self, from: Data(#"{"name":"S","retention":"someday"}"#.utf8)).retention
        #expect(retention == RetentionPolicy(rawValue: "someday"))
    }

    @Test("an API error becomes a typed error with the server's codes")
    func apiError() {
        let body = Array(#"{"type":"io.nats.jetstream.api.v1.stream_info_response","error":{"code":404,"err_code":10059,"description":"stream not found"}}"#.utf8)
        let error = #expect(throws: JetStreamError.self) {
            try JetStreamContext.decodeResponse(body, as: StreamInfo.self, apiSubject: "$JS.API.STREAM.INFO.X", stream: "X", consumer: nil)
        }
        #expect(error?.code == .streamNotFound)
        #expect(error?.status == 404)
        #expect(error?.apiErrorCode == .streamNotFound)
        #expect(error?.stream == "X")
        #expect(error?.description.contains("Create the stream first") == true)
    }

    @Test("a failed expectation has its own code")
    func expectation() {
        let body = Array(#"{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 4"}}"#.utf8)
        let error = #expect(throws: JetStreamError.self) {
            try JetStreamContext.decodeResponse(body, as: PubAck.self, apiSubject: "orders.new", stream: nil, consumer: nil)
        }
        #expect(error?.code == .expectationFailed)
        #expect(error?.apiErrorCode == .streamWrongLastSequence)
    }

    @Test("a response that does not decode names the subject and the failing key, never the payload")
    func undecodable() {
        let body = Array(#"{"stream":"S","seq":"secret-text"}"#.utf8)
        let error = #expect(throws: JetStreamError.self) {
            try JetStreamContext.decodeResponse(body, as: PubAck.self, apiSubject: "orders.new", stream: nil, consumer: nil)
        }
        #expect(error?.code == .invalidResponse)
        #expect(error?.message.contains("orders.new") == true)
        #expect(error?.message.contains("'seq'") == true)
        #expect(error?.message.contains("secret-text") == false)
        let notJSON = #expect(throws: JetStreamError.self) {
            try JetStreamContext.decodeResponse(Array("+OK".utf8), as: PubAck.self, apiSubject: "orders.new", stream: nil, consumer: nil)
        }
        #expect(notJSON?.code == .invalidResponse)
    }

    @Test("API prefix from domain or custom prefix")
    func prefixes() {
        var options = JetStreamOptions()
        #expect(options.resolvedAPIPrefix == "$JS.API")
        options.domain = "hub"
        #expect(options.resolvedAPIPrefix == "$JS.hub.API")
        options.apiPrefix = "$JS.other.API."
        #expect(options.resolvedAPIPrefix == "$JS.other.API")
    }

    @Test("publish options become the expectation headers")
    func publishHeaders() throws {
        let options = JetStreamPublishOptions(messageID: "m1", expectedStream: "S", expectedLastSequence: 4,
                                              expectedLastSubjectSequence: 0, expectedLastMessageID: "m0")
        let headers = try #require(options.apply(to: nil))
        #expect(headers["Nats-Msg-Id"] == "m1")
        #expect(headers["Nats-Expected-Stream"] == "S")
        #expect(headers["Nats-Expected-Last-Sequence"] == "4")
        #expect(headers["Nats-Expected-Last-Subject-Sequence"] == "0")
        #expect(headers["Nats-Expected-Last-Msg-Id"] == "m0")
        #expect(JetStreamPublishOptions().apply(to: nil) == nil)
    }
}
