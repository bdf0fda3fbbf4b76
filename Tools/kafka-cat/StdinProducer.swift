import Dispatch
import Foundation
import KafkaCatCore
import ToolSupport
import TributaryKafka

/// `-P`: one record per `-D`-delimited piece of stdin (or of the `-l` file; empty pieces skipped,
/// like kcat), or one record per FILE argument, sent with the producer's buffered path; every
/// delivery report is counted, and any failure ends the run with exit 2 after the rest is
/// flushed. While records wait for a broker that is down, a line on stderr says so.
struct StdinProducer {
    let session: KafkaCatSession
    let client: KafkaClient

    /// How often the wait for deliveries is reported while brokers are unreachable.
    static let waitReportInterval: Duration = .seconds(5)

    func run() async throws(KafkaError) {
        let command = session.command
        guard let topicName = command.topic else { return }
        let topic = try await client.describeTopic(topicName)
        let fixedPartition = command.partition.map { _ in session.partitions(of: topic)[0] }
        let partitionCount = topic.partitionCount
        let partitioner = command.properties.partitioner ?? .murmur2Random
        var random = SystemRandomNumberGenerator()
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

        var produced = 0
        var bufferError: KafkaError?
        func send(key: [UInt8]?, value: [UInt8]?) async -> Bool {
            let partition = fixedPartition ?? partitioner.partition(forKey: key, partitionCount: partitionCount, using: &random)
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
        func send(_ message: [UInt8]) async -> Bool {
            guard !message.isEmpty else { return true }
            let (key, value) = command.keyAndValue(of: message)
            guard await send(key: key, value: value) else { return false }
            if command.tee, !StandardStreams.writeOutput(message + command.delimiter) { return false }
            return true
        }

        var unreadable: [String] = []
        if !command.files.isEmpty && !command.lineMode {
            // One file, one record, bytes as they are; the key is -k's.
            for path in command.files {
                guard let contents = await Self.read(path) else {
                    unreadable.append(path)
                    session.info("Failed to open \(path): not a readable file")
                    continue
                }
                if contents.isEmpty {
                    session.info("Skipping empty file \(path)", level: 3)
                    continue
                }
                if !(await send(key: command.fixedKey, value: contents)) { break }
            }
        } else {
            var splitter = DelimitedSplitter(delimiter: command.delimiter)
            if let path = command.files.first {
                guard let contents = await Self.read(path) else {
                    try? await producer.close()
                    session.fail("cannot read '\(path)' (-l): not a readable file")
                }
                splitter.append(contents)
                while let message = splitter.next() {
                    if !(await send(message)) { break }
                }
                if bufferError == nil, command.count.map({ produced < $0 }) ?? true, let last = splitter.finish() { _ = await send(last) }
            } else {
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
            }
        }

        // Every record produced has a callback, so close() only waits; failures are in the tally.
        // While it waits on a broker that does not answer, say so.
        let total = produced
        let probeTimeout = command.metadataTimeout ?? .seconds(2)
        let watcher = Task { [client] in
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.waitReportInterval)
                if Task.isCancelled { return }
                let done = tally.snapshot
                let waiting = total - done.delivered - done.failed
                guard waiting > 0 else { continue }
                if let problem = await BrokerWatch.probe(client, within: probeTimeout) {
                    reporter.info("Waiting for \(waiting) record(s): the brokers do not answer (\(problem)); records fail after message.timeout.ms (\(configuration.deliveryTimeout))")
                } else {
                    reporter.info("Waiting for \(waiting) record(s) to be delivered")
                }
            }
        }
        try? await producer.close()
        watcher.cancel()
        let result = tally.snapshot
        if let bufferError {
            session.fail("record \(produced + 1) could not be produced after \(result.delivered) were delivered: \(bufferError.description)")
        }
        if result.failed > 0 {
            let first = result.firstError.map { ": the first: \($0.description)" } ?? ""
            session.fail("\(result.failed) of \(produced) records were not delivered\(first)")
        }
        if !unreadable.isEmpty {
            session.fail("\(unreadable.count) of \(command.files.count) files could not be read: " + unreadable.joined(separator: ", "))
        }
        session.info("\(result.delivered) records delivered to \(topicName)", level: 2)
    }

    /// A file's bytes, read off the concurrency pool; nil when it cannot be read.
    static func read(_ path: String) async -> [UInt8]? {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                      let data = FileManager.default.contents(atPath: path) else {
                    continuation.resume(returning: nil)
                    return
                }
                continuation.resume(returning: [UInt8](data))
            }
        }
    }
}
