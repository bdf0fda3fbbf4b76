import Foundation
import Testing
@testable import TributaryJetStream

/// Transcripts: event, then what the accounting asks for.
@Suite("Pull request accounting")
struct PullRequestAccountingTests {
    @Test("first request asks for the full batch; top-up at half; refills only the gap")
    func messageThreshold() throws {
        var accounting = PullRequestAccounting(batch: 10, maxBytes: nil)
        let firstRequest = accounting.takeNextRequest()
        let first = try #require(firstRequest)
        #expect(first.batch == 10 && first.maxBytes == nil)
        #expect(accounting.takeNextRequest() == nil, "nothing more while 10 are outstanding")
        for _ in 0..<4 { accounting.messageDelivered(size: 100) }
        #expect(!accounting.needsPull, "6 outstanding is above the threshold of 5")
        accounting.messageDelivered(size: 100)
        #expect(accounting.needsPull)
        let topUpRequest = accounting.takeNextRequest()
        let topUp = try #require(topUpRequest)
        #expect(topUp.batch == 5)
        #expect(accounting.pendingMessages == 10)
    }

    @Test("a request that expires returns its undelivered count")
    func expiry() throws {
        var accounting = PullRequestAccounting(batch: 8, maxBytes: nil, thresholdMessages: 2)
        _ = accounting.takeNextRequest()
        accounting.messageDelivered(size: 1)
        accounting.requestEnded(pendingMessages: 7, pendingBytes: 0)
        #expect(accounting.pendingMessages == 0)
        let refill = accounting.takeNextRequest()
        #expect(try #require(refill).batch == 8)
    }

    @Test("an end without counts, or a reset, forgets every open request")
    func resets() throws {
        var accounting = PullRequestAccounting(batch: 4, maxBytes: 1000)
        let firstRequest = accounting.takeNextRequest()
        let first = try #require(firstRequest)
        #expect(first.maxBytes == 1000)
        accounting.requestEnded(pendingMessages: nil, pendingBytes: nil)
        #expect(accounting.pendingMessages == 0 && accounting.pendingBytes == 0)
        _ = accounting.takeNextRequest()
        accounting.reset()
        let again = accounting.takeNextRequest()
        #expect(try #require(again) == (batch: 4, maxBytes: 1000))
    }

    @Test("byte-bounded pulls top up when outstanding bytes fall to the threshold")
    func byteThreshold() throws {
        var accounting = PullRequestAccounting(batch: 100, maxBytes: 1000)
        _ = accounting.takeNextRequest()
        accounting.messageDelivered(size: 400)
        #expect(!accounting.needsPull)
        accounting.messageDelivered(size: 200)
        #expect(accounting.needsPull, "400 bytes left is below half of 1000")
        let nextRequest = accounting.takeNextRequest()
        let next = try #require(nextRequest)
        #expect(next.batch == 2 && next.maxBytes == 600)
    }
}

/// The pull request's hand-written JSON against the context's `JSONEncoder`, byte for byte.
@Suite("Pull request JSON")
struct PullRequestWireTests {
    static let requests: [PullRequest] = [
        PullRequest(batch: 1),
        PullRequest(batch: 500, expires: .seconds(5)),
        PullRequest(batch: 10, maxBytes: 1 << 20, expires: .milliseconds(1_500), noWait: nil, idleHeartbeat: .seconds(15)),
        PullRequest(batch: 3, noWait: true),
        PullRequest(batch: 3, noWait: false),
        PullRequest(batch: Int.max, maxBytes: 0, expires: .nanoseconds(1), noWait: true, idleHeartbeat: .zero),
        PullRequest(batch: 7, expires: .seconds(Int64.max)),
    ]

    @Test("the same bytes as JSONEncoder with sorted keys", arguments: requests)
    func sameBytesAsTheEncoder(_ request: PullRequest) throws {
        let encoded = Array(try JetStreamContext.makeEncoder().encode(request))
        #expect(request.wireJSON == encoded, "\(String(decoding: request.wireJSON, as: UTF8.self)) vs \(String(decoding: encoded, as: UTF8.self))")
    }
}
