import KafkaCatCore
import ToolSupport
import TributaryKafka
import TributaryKafkaProtocol

/// `-P`: one record per `-D`-delimited piece of stdin (empty pieces skipped, like kcat), sent
/// with the producer's buffered path; every delivery report is counted, and any failure ends
/// the run with exit 2 after the rest is flushed.
struct StdinProducer {
    let session: KafkaCatSession
    let client: KafkaClient

    func run() async throws(KafkaError) {
        let command = session.command
        guard let topicName = command.topic else { return }
        let topic = try await client.describeTopic(topicName)
        let partition = command.partition.map { _ in session.partitions(of: topic)[0] }
        var configuration = KafkaProducerConfiguration()
        command.properties.apply(to: &configuration)
        let producer = try client.makeProducer(configuration)
        let tally = DeliveryTally()
        let headers: [KafkaRecord.Header] = command.headers.map { (key: $0.name, value: $0.value) }
        let verbosity = command.verbosity
        let reporter = session
        let onDelivery: @Sendable (Result<KafkaRecordMetadata, KafkaError>) -> Void = { result in
            tally.record(result)
            switch result {
            case .success(let metadata):
                reporter.info("Message delivered to partition \(metadata.partition) (offset \(metadata.offset))", level: 2)
            case .failure(let error):
                if verbosity >= 1 { reporter.info("Delivery failed for message: \(error.description)") }
            }
        }

        var splitter = DelimitedSplitter(delimiter: command.delimiter)
        var produced = 0
        var bufferError: KafkaError?
        func send(_ message: [UInt8]) async -> Bool {
            guard !message.isEmpty else { return true }
            let (key, value) = command.keyAndValue(of: message)
            do throws(KafkaError) {
                try await producer.produce(topic: topicName, key: key, value: value, headers: headers,
                                           partition: partition, onDelivery: onDelivery)
            } catch {
                bufferError = error
                return false
            }
            produced += 1
            if let count = command.count, produced >= count { return false }
            return true
        }

        reading: while !Task.isCancelled {
            let chunk: [UInt8]?
            do {
                chunk = try await StandardStreams.readInput()
            } catch {
                try? await producer.close()
                session.fail(error.description)
            }
            guard let chunk else {
                if let last = splitter.finish() { _ = await send(last) }
                break
            }
            splitter.append(chunk)
            while let message = splitter.next() {
                if !(await send(message)) { break reading }
            }
        }

        // Every record produced has a callback, so close() only waits; failures are in the tally.
        try? await producer.close()
        let result = tally.snapshot
        if let bufferError {
            session.fail("record \(produced + 1) could not be produced after \(result.delivered) were delivered: \(bufferError.description)")
        }
        if result.failed > 0 {
            let first = result.firstError.map { ": the first: \($0.description)" } ?? ""
            session.fail("\(result.failed) of \(produced) records were not delivered\(first)")
        }
        session.info("\(result.delivered) records delivered to \(topicName)", level: 2)
    }
}
