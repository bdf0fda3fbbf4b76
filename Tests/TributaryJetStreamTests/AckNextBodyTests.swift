import Testing
@testable import TributaryJetStream

@Suite("Ack-next request body")
struct AckNextBodyTests {
    @Test func bodies() {
        #expect(JetStreamMessage.ackNextBody(batch: 1, expires: nil) == "+NXT {\"batch\":1}")
        #expect(JetStreamMessage.ackNextBody(batch: 3, expires: .milliseconds(250)) == "+NXT {\"batch\":3,\"expires\":250000000}")
    }
}
