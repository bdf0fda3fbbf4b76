import TributaryKafka
import TributaryTestSupport

extension InMemoryKafkaBroker {
    /// A client connected to this broker over in-memory streams, retrying quickly (10 ms backoff,
    /// at most 50 ms) so that scripted failures are retried at once; `requestTimeout` is a
    /// safety bound only, and so is `operationTimeout` when given.
    func connectClient(requestTimeout: Duration, operationTimeout: Duration? = nil) async throws -> KafkaClient {
        var configuration = try KafkaClientConfiguration(bootstrapServers: bootstrapServers)
        configuration.streamFactory = streamFactory
        configuration.retryBackoff = .milliseconds(10)
        configuration.retryBackoffMax = .milliseconds(50)
        configuration.requestTimeout = requestTimeout
        if let operationTimeout { configuration.operationTimeout = operationTimeout }
        return try await KafkaClient.connect(configuration)
    }
}
