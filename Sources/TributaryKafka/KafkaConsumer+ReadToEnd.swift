extension KafkaConsumer {
    /// Reads every assigned partition from its position up to its end as of this call (the end
    /// offset the broker reports now), and returns those records in fetch order. Records
    /// produced after the call are left for later reads.
    ///
    /// - Parameter timeout: how long to wait for the records. Default 30 s.
    /// - Throws: ``KafkaError`` `timedOut` naming the partitions not read to their end in time
    ///   (the records read so far are then fetched again by the next read), or the error of the
    ///   offset lookup or the fetch.
    public func readToEnd(timeout: Duration = .seconds(30)) async throws(KafkaError) -> [KafkaConsumerRecord] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        var ends: [KafkaTopicPartition: Int64] = [:]
        var starts: [KafkaTopicPartition: Int64] = [:]
        for (topic, partition) in assignment {
            let key = KafkaTopicPartition(topic: topic, partition: partition)
            ends[key] = try await client.offset(topic: topic, partition: partition, .latest)
            starts[key] = position(topic: topic, partition: partition)
        }
        var records: [KafkaConsumerRecord] = []
        // Records past a partition's end that a poll took from the buffer: fetched again later.
        var beyond: [KafkaTopicPartition: Int64] = [:]
        func unfinished() -> [KafkaTopicPartition] {
            ends.filter { key, end in
                beyond[key] == nil && (position(topic: key.topic, partition: key.partition) ?? end) < end
            }.keys.sorted()
        }
        while !unfinished().isEmpty {
            let now = ContinuousClock.now
            guard now < deadline else {
                for (key, start) in starts { try? await seek(topic: key.topic, partition: key.partition, to: .offset(start)) }
                let late = unfinished().map(\.description).joined(separator: ", ")
                throw KafkaError(.timedOut, "not every assigned partition was read to its end within \(timeout) (left: \(late)); raise the timeout or check that the partitions' leaders are reachable")
            }
            for record in try await poll(maxRecords: 10_000, timeout: min(deadline - now, .milliseconds(500))) {
                let key = KafkaTopicPartition(topic: record.topic, partition: record.partition)
                if let end = ends[key], record.offset >= end {
                    beyond[key] = min(beyond[key] ?? record.offset, record.offset)
                } else {
                    records.append(record)
                }
            }
        }
        for (key, offset) in beyond { try await seek(topic: key.topic, partition: key.partition, to: .offset(offset)) }
        return records
    }
}
