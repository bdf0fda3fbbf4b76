import Testing
import TributaryKafka

@Suite("Kafka producer configuration")
struct KafkaProducerConfigurationTests {
    @Test func theDefaultIsIdempotentWithAcksAll() throws {
        let configuration = KafkaProducerConfiguration()
        #expect(configuration.acks == .all)
        #expect(configuration.idempotence == .automatic)
        #expect(configuration.usesIdempotence)
        try configuration.validate()
    }

    @Test func automaticIdempotenceGivesWayToSettingsThatExcludeIt() throws {
        var configuration = KafkaProducerConfiguration()
        configuration.acks = .leader
        #expect(!configuration.usesIdempotence)
        try configuration.validate()
        configuration.acks = .all
        configuration.maxInFlightRequestsPerConnection = 6
        #expect(!configuration.usesIdempotence)
        try configuration.validate()
    }

    @Test func requiredIdempotenceRefusesSettingsThatExcludeItAndNamesTheField() {
        var configuration = KafkaProducerConfiguration()
        configuration.idempotence = .enabled
        configuration.acks = .leader
        #expect(throws: KafkaError.self) { try configuration.validate() }
        do {
            try configuration.validate()
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.contains("acks"))
        }
        configuration.acks = .all
        configuration.maxInFlightRequestsPerConnection = 8
        do {
            try configuration.validate()
            Issue.record("8 requests in flight were accepted with idempotence")
        } catch {
            #expect(error.message.contains("maxInFlightRequestsPerConnection"))
        }
        configuration.idempotence = .disabled
        #expect(!configuration.usesIdempotence)
    }
}
