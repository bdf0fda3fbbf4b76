import Testing
import TributaryKafkaProtocol

@Suite("KafkaErrorCode")
struct KafkaErrorCodeTests {
    @Test("the table lists every code once, in order, from -1 to 128 without 99")
    func table() {
        let codes = KafkaErrorCode.all.map(\.code)
        #expect(codes == Array(-1...128).filter { $0 != 99 }.map { Int16($0) })
        #expect(Set(KafkaErrorCode.all.map(\.name)).count == KafkaErrorCode.all.count)
        for info in KafkaErrorCode.all {
            #expect(KafkaErrorCode(rawValue: info.code).info == info)
            #expect(!info.summary.isEmpty && !info.hint.isEmpty)
        }
    }

    @Test("known codes have names, retriable flags and advice")
    func known() {
        #expect(KafkaErrorCode.noError.rawValue == 0)
        #expect(!KafkaErrorCode.noError.isError)
        #expect(KafkaErrorCode.unknownTopicOrPartition.name == "UNKNOWN_TOPIC_OR_PARTITION")
        #expect(KafkaErrorCode.unknownTopicOrPartition.isRetriable)
        #expect(KafkaErrorCode.notLeaderOrFollower.isRetriable)
        #expect(KafkaErrorCode.notCoordinator.isRetriable)
        #expect(!KafkaErrorCode.topicAuthorizationFailed.isRetriable)
        #expect(!KafkaErrorCode.unknownMemberID.isRetriable)
        #expect(KafkaErrorCode.unknownMemberID.rawValue == 25)
        #expect(KafkaErrorCode.unsupportedSASLMechanism.rawValue == 33)
        #expect(KafkaErrorCode.invalidRegularExpression.rawValue == 128)
        #expect(KafkaErrorCode.unknownServerError.rawValue == -1)
        #expect(KafkaErrorCode(rawValue: 16) == .notCoordinator)
        #expect(KafkaErrorCode.notCoordinator.description == "NOT_COORDINATOR (16)")
    }

    @Test("unknown codes stay representable")
    func unknown() {
        let code = KafkaErrorCode(rawValue: 999)
        #expect(code.info == nil)
        #expect(code.name == "UNKNOWN_CODE_999")
        #expect(!code.isRetriable)
        #expect(code.isError)
        #expect(code.summary.contains("999"))
        #expect(KafkaErrorCode(rawValue: 99).info == nil)
    }
}
