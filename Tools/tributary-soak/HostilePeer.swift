import Foundation
import SoakCore
import TributaryKafka
import TributaryNATS

/// Hostile peer: at each fault a NATS client and a Kafka client connect to a server that
/// speaks garbage. Each attempt must end in the module's typed error within 30 s; an attempt
/// that connects, or hangs, is counted lost and fails the run. Memory stays bounded: the
/// client RSS in the report covers these attempts.
func runHostilePeer(run: SoakRun, faults: [SoakFault], seed: UInt64, log: @escaping @Sendable (String) -> Void) async throws -> [SoakRow] {
    let scenario = SoakScenario.hostilePeer
    let server = try GarbageServer(seed: seed)
    defer { server.stop() }
    let nats = LedgerBox(scenario, "nats-connect", .probe)
    let kafka = LedgerBox(scenario, "kafka-connect", .probe)
    let url = "nats://127.0.0.1:\(server.port)"
    var natsCodes: [String: Int] = [:]
    var kafkaCodes: [String: Int] = [:]
    for fault in faults {
        await run.sleep(until: fault.at)
        let natsID = nats.sent()
        let natsOutcome = await within(.seconds(30)) { () -> String? in
            var options = NATSOptions(url: url)
            options.connectTimeout = .seconds(2)
            options.allowReconnect = false
            options.maxReconnectAttempts = 0
            do throws(NATSError) {
                let client = try await NATSClient.connect(options)
                await client.close()
                return nil
            } catch {
                return "\(error.code)"
            }
        }
        if let code = natsOutcome ?? nil {
            nats.acknowledged(natsID)
            natsCodes[code, default: 0] += 1
        } else {
            log("\(scenario.rawValue): NATS attempt \(natsID) did not end in a NATSError")
        }
        let kafkaID = kafka.sent()
        let kafkaOutcome = await within(.seconds(30)) { () -> String? in
            do throws(KafkaError) {
                var configuration = try KafkaClientConfiguration(bootstrapServers: "127.0.0.1:\(server.port)")
                configuration.connectTimeout = .seconds(2)
                configuration.requestTimeout = .seconds(5)
                let client = try await KafkaClient.connect(configuration)
                defer { client.close() }
                try await client.createTopic(KafkaNewTopic(name: "hostile", partitions: 1), ifNotExists: true)
                return nil
            } catch {
                return "\(error.code)"
            }
        }
        if let code = kafkaOutcome ?? nil {
            kafka.acknowledged(kafkaID)
            kafkaCodes[code, default: 0] += 1
        } else {
            log("\(scenario.rawValue): Kafka attempt \(kafkaID) did not end in a KafkaError")
        }
    }
    func tally(_ codes: [String: Int]) -> String {
        codes.sorted { $0.key < $1.key }.map { "\($0.key) x\($0.value)" }.joined(separator: ", ")
    }
    log("\(scenario.rawValue): NATSError codes: \(tally(natsCodes)); KafkaError codes: \(tally(kafkaCodes))")
    return [nats.summary, kafka.summary]
}
