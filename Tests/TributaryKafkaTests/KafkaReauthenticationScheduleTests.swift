import Testing
@testable import TributaryKafka

/// When a SASL connection re-authenticates (KIP-368), as a function of the session the broker granted.
@Suite("Kafka re-authentication schedule")
struct KafkaReauthenticationScheduleTests {
    typealias Connection = KafkaBrokerConnection

    @Test func aLongSessionIsRenewedAtTheDrawnFraction() {
        #expect(Connection.reauthenticationDelay(sessionLifetime: .seconds(3600), fraction: 0.85) == .seconds(3060))
        #expect(Connection.reauthenticationDelay(sessionLifetime: .seconds(3600), fraction: 0.95) == .seconds(3420))
    }

    @Test func aShortSessionKeepsTheMarginForRequestsInFlightAndTheExchange() {
        // 5 % of 10 s is 500 ms, too little for a fetch in flight and a SASL round trip under load.
        #expect(Connection.reauthenticationDelay(sessionLifetime: .seconds(10), fraction: 0.95) == .seconds(8))
        #expect(Connection.reauthenticationDelay(sessionLifetime: .seconds(10), fraction: 0.85) == .seconds(8))
        #expect(Connection.reauthenticationDelay(sessionLifetime: .seconds(40), fraction: 0.85) == .seconds(34))
        #expect(Connection.reauthenticationDelay(sessionLifetime: .seconds(40), fraction: 0.95) == .seconds(38))
    }

    @Test func aSessionShorterThanTwiceTheMarginIsRenewedAtItsHalf() {
        #expect(Connection.reauthenticationDelay(sessionLifetime: .seconds(3), fraction: 0.9) == .milliseconds(1500))
        #expect(Connection.reauthenticationDelay(sessionLifetime: .milliseconds(2), fraction: 0.9) == .milliseconds(1))
    }
}
