import KafkaCatCore
import TributaryKafka

/// Notices, while a consumer gets nothing, that no broker answers any more (kcat's "all
/// brokers down"): after `probeInterval` without records it asks for metadata; when that gets no
/// answer within `probeTimeout` the run fails (exit 2), or with `-E` a line says so and the
/// consumer keeps waiting.
struct BrokerWatch {
    let session: KafkaCatSession
    let client: KafkaClient
    /// Quiet time before the brokers are asked.
    static let probeInterval: Duration = .seconds(3)
    /// How long the metadata answer may take (`-m` when given).
    let probeTimeout: Duration
    private var lastContact = ContinuousClock.now
    private var reportedDown = false

    init(session: KafkaCatSession, client: KafkaClient) {
        self.session = session
        self.client = client
        probeTimeout = session.command.metadataTimeout ?? .seconds(5)
    }

    /// Records arrived: the brokers are there.
    mutating func contact() {
        lastContact = .now
        if reportedDown {
            reportedDown = false
            session.info("Brokers reachable again")
        }
    }

    /// Asks the brokers when it has been quiet for a while; fails the run when none answers
    /// (unless `-E`).
    mutating func check() async {
        guard ContinuousClock.now - lastContact >= Self.probeInterval else { return }
        guard let problem = await Self.probe(client, within: probeTimeout) else {
            contact()
            return
        }
        let text = "all brokers are down (\(session.command.brokers.map(\.description).joined(separator: ","))): \(problem)"
        if session.command.exitOnError { session.fail(text + "; start a broker or check -b (-E keeps waiting)") }
        if !reportedDown {
            reportedDown = true
            session.info("ERROR: " + text + "; waiting (-E)")
        }
        lastContact = .now
    }

    /// Nil when a metadata request is answered within `timeout`, else what went wrong.
    static func probe(_ client: KafkaClient, within timeout: Duration) async -> String? {
        await withTaskGroup(of: String?.self) { group in
            group.addTask {
                do throws(KafkaError) {
                    _ = try await client.metadata(topics: [])
                    return nil
                } catch {
                    return error.message
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout)
                } catch {
                    return nil
                }
                return "no broker answered a metadata request within \(timeout)"
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
