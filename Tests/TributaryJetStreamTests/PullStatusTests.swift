import Testing
@testable import TributaryJetStream

@Suite("Pull status classification")
struct PullStatusTests {
    @Test("stored messages have no status")
    func noStatus() {
        #expect(PullStatus(status: nil, description: nil, pendingMessages: nil, pendingBytes: nil) == nil)
    }

    @Test("status lines as nats-server sends them", arguments: [
        (100, "Idle Heartbeat", nil, nil, PullStatus.heartbeat),
        (404, "No Messages", nil, nil, .noMessages(pendingMessages: nil, pendingBytes: nil)),
        (408, "Request Timeout", "7", "0", .requestExpired(pendingMessages: 7, pendingBytes: 0)),
        (408, "Bad Request", nil, nil, .refused(status: 408, description: "Bad Request")),
        (409, "Leadership Change", nil, nil, .leadershipChange),
        (409, "Consumer Deleted", nil, nil, .consumerDeleted),
        (409, "Server Shutdown", nil, nil, .serverShutdown),
        (503, "", nil, nil, .noResponders),
        (409, "Batch Completed", "0", "512", .requestEnded(pendingMessages: 0, pendingBytes: 512, reason: "Batch Completed")),
        (409, "Message Size Exceeds MaxBytes", "3", "10", .requestEnded(pendingMessages: 3, pendingBytes: 10, reason: "Message Size Exceeds MaxBytes")),
        (409, "Exceeded MaxWaiting", nil, nil, .refused(status: 409, description: "Exceeded MaxWaiting")),
        (409, "Exceeded MaxRequestBatch of 10", nil, nil, .refused(status: 409, description: "Exceeded MaxRequestBatch of 10")),
        (400, "Bad Request - invalid", nil, nil, .refused(status: 400, description: "Bad Request - invalid")),
    ] as [(Int, String, String?, String?, PullStatus)])
    func classify(status: Int, description: String, messages: String?, bytes: String?, expected: PullStatus) {
        #expect(PullStatus(status: status, description: description, pendingMessages: messages, pendingBytes: bytes) == expected)
    }
}
