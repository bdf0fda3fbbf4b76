import TributaryKafka
import TributaryKafkaProtocol
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

extension FindCoordinatorResponse {
    /// A scripted broker's answer naming node `node` at 127.0.0.1:`port` as the coordinator of
    /// what `body` asked for, in the form of the request's `version` (a list from v4 on).
    static func naming(_ node: Int32, port: Int32 = 9092, errorCode: Int16 = 0, for body: FindCoordinatorRequest, version: Int16) -> FindCoordinatorResponse {
        var response = FindCoordinatorResponse()
        if version >= 4 {
            response.coordinators = [.init(key: body.coordinatorKeys.first ?? body.key, nodeID: node, host: "127.0.0.1", port: port, errorCode: errorCode)]
        } else {
            response.errorCode = errorCode
            response.nodeID = node
            response.host = "127.0.0.1"
            response.port = port
        }
        return response
    }
}
