import TributaryWire
import TributaryJetStream
import TributaryKafka
import TributaryNATS

/// A NATS↔Kafka bridge: a set of ``BridgeRoute``s run over one NATS client and one Kafka client.
///
/// ```swift
/// let bridge = try NATSKafkaBridge(nats: nats, kafka: kafka, routes: [
///     BridgeRoute(name: "events", from: .natsSubject("events.>"), to: .kafkaTopic("events"), key: .subjectToken(2)),
///     BridgeRoute(name: "commands", from: .kafkaTopics(["commands"], group: "bridge"), to: .natsSubject("commands.{key}")),
/// ])
/// let running = Task { try await bridge.run() }
/// // …
/// await bridge.drain()          // finish in-flight work, commit and ack, then run() returns
/// ```
///
/// Every message the bridge wrote carries `Tributary-Bridge: <id>`; each route skips messages
/// with its own bridge's id, so two routes in opposite directions over overlapping names do not echo.
public final class NATSKafkaBridge: Sendable {
    /// The bridge's id, written into the `Tributary-Bridge` header of what it forwards.
    public let id: String
    /// The routes, in the order given.
    public let routes: [BridgeRoute]
    /// Route starts, failures, dead letters and stops (the newest 1,024 are kept if nobody reads).
    public let events: AsyncStream<BridgeEvent>

    let nats: NATSClient
    let kafka: KafkaClient
    /// `id` as bytes, for the header of every record written to Kafka.
    let idBytes: [UInt8]
    let producerConfiguration: KafkaProducerConfiguration
    let jetStreamOptions: JetStreamOptions
    private let counters: [RouteCounters]
    private let eventContinuation: AsyncStream<BridgeEvent>.Continuation

    private struct Control {
        var started = false
        var stopping = false
        var finished = false
        var stoppers: [@Sendable () -> Void] = []
        var finishWaiters: [CheckedContinuation<Void, Never>] = []
    }
    private let control = Locked(Control())

    /// A bridge over `nats` and `kafka` (both stay open; close them after ``run()`` returns).
    ///
    /// - Parameters:
    ///   - id: marks forwarded messages (loop guard); give each bridge of a deployment its own.
    ///   - producer: settings of the producer shared by routes into Kafka (acks=all by default).
    ///   - jetStream: settings of the JetStream context of JetStream routes.
    /// - Throws: `.invalidConfiguration` naming the route and field.
    public init(id: String = "tributary-bridge", nats: NATSClient, kafka: KafkaClient, routes: [BridgeRoute],
                producer: KafkaProducerConfiguration = NATSKafkaBridge.defaultProducerConfiguration,
                jetStream: JetStreamOptions = JetStreamOptions()) throws(BridgeError) {
        guard !id.isEmpty, !id.contains("\r"), !id.contains("\n") else {
            throw BridgeError(.invalidConfiguration, route: nil, field: "id", "the bridge id must be non-empty text on one line")
        }
        guard !routes.isEmpty else { throw BridgeError(.invalidConfiguration, route: nil, field: "routes", "a bridge needs at least one route") }
        var names = Set<String>()
        for route in routes {
            try route.validate()
            guard names.insert(route.name).inserted else {
                throw BridgeError(.invalidConfiguration, route: route.name, field: "name", "two routes have this name; names must be unique")
            }
        }
        self.id = id
        idBytes = Array(id.utf8)
        self.routes = routes
        self.nats = nats
        self.kafka = kafka
        self.producerConfiguration = producer
        self.jetStreamOptions = jetStream
        counters = routes.map { RouteCounters(route: $0.name) }
        (events, eventContinuation) = AsyncStream.makeStream(of: BridgeEvent.self, bufferingPolicy: .bufferingNewest(1024))
    }

    /// The producer settings a bridge uses by default: acks from all in-sync replicas.
    public static var defaultProducerConfiguration: KafkaProducerConfiguration {
        var configuration = KafkaProducerConfiguration()
        configuration.acks = .all
        return configuration
    }

    /// Each route's counters now.
    public var statistics: [BridgeRouteStatistics] { counters.map(\.snapshot) }

    /// Runs every route until ``drain()`` or cancellation. A route that fails stops the others
    /// (each finishes its in-flight work first) and its error is thrown.
    ///
    /// - Throws: the first route's ``BridgeError`` (`.routeFailed` wraps the client error).
    public func run() async throws(BridgeError) {
        let alreadyStarted = control.withLock { c -> Bool in
            defer { c.started = true }
            return c.started
        }
        guard !alreadyStarted else { throw BridgeError(.invalidConfiguration, route: nil, "run() was already called; a bridge runs once") }
        defer { finishRun() }
        let needsProducer = routes.contains { route in
            if route.destination.isKafka { return true }
            if case .kafkaTopic? = route.deadLetter, !route.source.isKafka { return true }
            return false
        }
        let producer: KafkaProducer?
        do {
            producer = needsProducer ? try kafka.makeProducer(producerConfiguration) : nil
        } catch {
            throw BridgeError(.invalidConfiguration, route: nil, field: "producer", "\(error)")
        }
        let needsJetStream = routes.contains { route in
            if case .jetStream = route.source { return true }
            if case .jetStreamSubject = route.destination { return true }
            return false
        }
        let jetStream: JetStreamContext?
        do {
            jetStream = needsJetStream ? try JetStreamContext(client: nats, options: jetStreamOptions) : nil
        } catch {
            throw BridgeError(.invalidConfiguration, route: nil, field: "jetStream", "\(error)")
        }
        var firstError: BridgeError?
        await withTaskGroup(of: BridgeError?.self) { group in
            for (index, route) in routes.enumerated() {
                let counters = self.counters[index]
                group.addTask {
                    do throws(BridgeError) {
                        try await self.runRoute(route, counters: counters, producer: producer, jetStream: jetStream)
                        self.eventContinuation.yield(.routeStopped(route: route.name, error: nil))
                        return nil
                    } catch {
                        self.eventContinuation.yield(.routeStopped(route: route.name, error: error))
                        return error
                    }
                }
            }
            for await outcome in group {
                guard let outcome else { continue }
                // One route failed: stop the others, each after its in-flight work.
                if firstError == nil { firstError = outcome }
                stopRoutes()
            }
        }
        if let producer {
            do {
                try await producer.flush()
            } catch {
                if firstError == nil { firstError = BridgeError(.routeFailed, route: nil, "the Kafka producer did not deliver everything: \(error)") }
            }
            try? await producer.close()
        }
        if let jetStream { try? await jetStream.waitForPendingPublishes() }
        if let firstError { throw firstError }
    }

    /// Stops reading, lets in-flight messages finish (Kafka acknowledgements, JetStream acks,
    /// offset commits), and returns when ``run()`` has returned (at once if it never ran).
    public func drain() async {
        stopRoutes()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = control.withLock { c -> Bool in
                if c.finished || !c.started { return true }
                c.finishWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    private func stopRoutes() {
        let stoppers = control.withLock { c -> [@Sendable () -> Void] in
            c.stopping = true
            defer { c.stoppers = [] }
            return c.stoppers
        }
        for stop in stoppers { stop() }
    }

    /// Registers how to stop a route; runs it at once when the bridge is already stopping.
    private func onStop(_ stop: @escaping @Sendable () -> Void) {
        let now = control.withLock { c -> Bool in
            if c.stopping { return true }
            c.stoppers.append(stop)
            return false
        }
        if now { stop() }
    }

    private func finishRun() {
        let waiters = control.withLock { c -> [CheckedContinuation<Void, Never>] in
            c.finished = true
            defer { c.finishWaiters = [] }
            return c.finishWaiters
        }
        for waiter in waiters { waiter.resume() }
        eventContinuation.finish()
    }

    // MARK: Routes

    /// A route held by reference, so that per-message callbacks capture one pointer.
    private final class SharedRoute: Sendable {
        let route: BridgeRoute
        init(_ route: BridgeRoute) { self.route = route }
    }

    private func runRoute(_ route: BridgeRoute, counters: RouteCounters, producer: KafkaProducer?, jetStream: JetStreamContext?) async throws(BridgeError) {
        switch (route.source, route.destination) {
        case (.natsSubject(let subject, let queue), .kafkaTopic(let topic)):
            guard let producer else { return }
            try await natsToKafka(route, subject: subject, queue: queue, topic: topic, producer: producer, counters: counters)
        case (.jetStream(let stream, let consumer), .kafkaTopic(let topic)):
            guard let producer, let jetStream else { return }
            try await jetStreamToKafka(route, stream: stream, consumer: consumer, topic: topic, producer: producer, jetStream: jetStream, counters: counters)
        case (.kafkaTopics(let topics, let group), .natsSubject(let template)):
            try await kafkaToNATS(route, topics: topics, group: group, template: try BridgeSubjectTemplate(template), jetStream: nil, counters: counters)
        case (.kafkaTopics(let topics, let group), .jetStreamSubject(let template)):
            guard let jetStream else { return }
            try await kafkaToNATS(route, topics: topics, group: group, template: try BridgeSubjectTemplate(template), jetStream: jetStream, counters: counters)
        default:
            throw BridgeError(.invalidConfiguration, route: route.name, field: "to", "\(route.source) cannot be bridged to \(route.destination)")
        }
    }

    /// Core NATS → Kafka: at most once on the NATS side; the producer's buffer bound holds the
    /// subscription back, and what it cannot hold is counted as dropped.
    private func natsToKafka(_ route: BridgeRoute, subject: String, queue: String?, topic: String, producer: KafkaProducer,
                             counters: RouteCounters) async throws(BridgeError) {
        let subscription: NATSSubscription
        do {
            subscription = try nats.subscribe(to: subject, queue: queue)
        } catch {
            throw BridgeError(.routeFailed, route: route.name, "cannot subscribe to '\(subject)': \(error)")
        }
        onStop { subscription.unsubscribe() }
        // The server has the subscription once a flush returns: from then on nothing is missed.
        try? await nats.flush()
        eventContinuation.yield(.routeStarted(route: route.name))
        let limiter = InFlightLimiter(limit: route.maxInFlight)
        let shared = SharedRoute(route)
        defer { counters.dropped.store(subscription.droppedCount, ordering: .relaxed) }
        do throws(NATSError) {
            for try await message in subscription {
                RouteCounters.add(counters.received)
                if BridgeMapping.isOwn(message.headers, bridge: id) {
                    RouteCounters.add(counters.skipped)
                    continue
                }
                let key: [UInt8]?
                do throws(BridgeError) {
                    key = try BridgeMapping.kafkaKey(route.key, subject: message.subject, headers: message.headers)
                } catch {
                    await giveUp(route, counters: counters, payload: message.payload, headers: message.headers, subject: message.subject,
                                 reason: error.message, producer: producer)
                    continue
                }
                let (headers, timestamp) = BridgeMapping.kafkaHeaders(subject: message.subject, headers: message.headers, bridge: idBytes)
                // The delivery callback holds the route by reference: one retain per record, not one per field.
                await forward(route, counters: counters, limiter: limiter, producer: producer, topic: topic, key: key, value: message.payload,
                              headers: headers, timestamp: timestamp) { [self, shared] result in
                    if case .failure(let error) = result {
                        Task { await self.giveUp(shared.route, counters: counters, payload: message.payload, headers: message.headers, subject: message.subject,
                                                 reason: "Kafka did not take the record: \(error)", producer: producer) }
                    }
                }
                if counters.received.load(ordering: .relaxed) & 1023 == 0 {
                    counters.dropped.store(subscription.droppedCount, ordering: .relaxed)
                }
            }
        } catch {
            await limiter.waitUntilIdle()
            throw BridgeError(.routeFailed, route: route.name, "the NATS subscription to '\(subject)' ended: \(error)")
        }
        await limiter.waitUntilIdle()
    }

    /// JetStream → Kafka: at least once; a message is acked after Kafka acknowledged its record,
    /// and nak'ed (redelivered by JetStream) when Kafka refused it.
    private func jetStreamToKafka(_ route: BridgeRoute, stream: String, consumer name: String, topic: String, producer: KafkaProducer,
                                  jetStream: JetStreamContext, counters: RouteCounters) async throws(BridgeError) {
        let messages: JetStreamMessages
        do {
            _ = try await jetStream.consumerInfo(stream: stream, name: name)
            messages = try jetStream.consumer(stream: stream, name: name).messages(route.pull)
        } catch {
            throw BridgeError(.routeFailed, route: route.name, "cannot read consumer '\(name)' of stream '\(stream)': \(error)")
        }
        onStop { messages.stop() }
        eventContinuation.yield(.routeStarted(route: route.name))
        let limiter = InFlightLimiter(limit: route.maxInFlight)
        let shared = SharedRoute(route)
        do throws(JetStreamError) {
            for try await message in messages {
                RouteCounters.add(counters.received)
                if BridgeMapping.isOwn(message.headers, bridge: id) {
                    RouteCounters.add(counters.skipped)
                    try? message.ack()
                    continue
                }
                let key: [UInt8]?
                do throws(BridgeError) {
                    key = try BridgeMapping.kafkaKey(route.key, subject: message.subject, headers: message.headers)
                } catch {
                    if await giveUp(route, counters: counters, payload: message.payload, headers: message.headers, subject: message.subject,
                                    reason: error.message, producer: producer) {
                        try? message.ack()
                    } else {
                        try? message.term(reason: error.message)
                    }
                    continue
                }
                var (headers, timestamp) = BridgeMapping.kafkaHeaders(subject: message.subject, headers: message.headers, bridge: idBytes)
                if timestamp == nil, let nanoseconds = message.metadata?.timestampNanoseconds { timestamp = nanoseconds / 1_000_000 }
                await forward(route, counters: counters, limiter: limiter, producer: producer, topic: topic, key: key, value: message.payload,
                              headers: headers, timestamp: timestamp) { [self, shared] result in
                    switch result {
                    case .success:
                        try? message.ack()
                    case .failure(let error):
                        self.eventContinuation.yield(.forwardFailed(route: shared.route.name, error: "Kafka did not take the record, JetStream redelivers it: \(error)"))
                        try? message.nak(delay: .seconds(1))
                    }
                }
            }
        } catch {
            await limiter.waitUntilIdle()
            throw BridgeError(.routeFailed, route: route.name, "the pull from consumer '\(name)' ended: \(error)")
        }
        await limiter.waitUntilIdle()
        // The acks went out as plain publishes: make sure the server has them before returning.
        try? await nats.flush()
    }

    /// Produces one record with a slot of the in-flight bound; `then` runs with the outcome
    /// after the counters were updated.
    private func forward(_ route: BridgeRoute, counters: RouteCounters, limiter: InFlightLimiter, producer: KafkaProducer, topic: String,
                         key: [UInt8]?, value: [UInt8], headers: [KafkaRecord.Header], timestamp: Int64?,
                         then: @escaping @Sendable (Result<KafkaRecordMetadata, KafkaError>) -> Void) async {
        await limiter.acquire()
        RouteCounters.add(counters.inFlight)
        let done: @Sendable (Result<KafkaRecordMetadata, KafkaError>) -> Void = { result in
            if case .success = result { RouteCounters.add(counters.forwarded) }
            RouteCounters.add(counters.inFlight, -1)
            then(result)
            limiter.release()
        }
        do {
            try await producer.produce(topic: topic, key: key, value: value, headers: headers, timestamp: timestamp, onDelivery: done)
        } catch {
            done(.failure(error))
        }
    }

    /// A NATS message the route cannot forward: to the dead-letter destination if there is one
    /// (true when it got there), else counted failed and reported.
    @discardableResult
    private func giveUp(_ route: BridgeRoute, counters: RouteCounters, payload: [UInt8], headers: NATSHeaders?, subject: String,
                        reason: String, producer: KafkaProducer) async -> Bool {
        switch route.deadLetter {
        case .natsSubject(let deadSubject)?:
            var dead = headers ?? NATSHeaders()
            dead.append(subject, for: "Dlq-Original-Subject")
            dead.append(route.name, for: "Dlq-Route")
            dead.append(String(reason.map { $0 == "\r" || $0 == "\n" || $0 == "\r\n" ? " " : $0 }), for: "Dlq-Reason")
            do {
                try await nats.publishWaiting(payload, to: deadSubject, headers: dead)
                try await nats.flush()
                RouteCounters.add(counters.deadLettered)
                eventContinuation.yield(.deadLettered(route: route.name, destination: "NATS subject '\(deadSubject)'", reason: reason))
                return true
            } catch {
                RouteCounters.add(counters.failed)
                eventContinuation.yield(.forwardFailed(route: route.name, error: "\(reason); dead-lettering to '\(deadSubject)' failed too: \(error)"))
                return false
            }
        case .kafkaTopic(let deadTopic)?:
            var (kafkaHeaders, _) = BridgeMapping.kafkaHeaders(subject: subject, headers: headers, bridge: idBytes)
            kafkaHeaders.append(("dlq.reason", Array(reason.utf8)))
            kafkaHeaders.append(("dlq.route", Array(route.name.utf8)))
            do {
                _ = try await producer.send(topic: deadTopic, key: nil, value: payload, headers: kafkaHeaders)
                RouteCounters.add(counters.deadLettered)
                eventContinuation.yield(.deadLettered(route: route.name, destination: "Kafka topic '\(deadTopic)'", reason: reason))
                return true
            } catch {
                RouteCounters.add(counters.failed)
                eventContinuation.yield(.forwardFailed(route: route.name, error: "\(reason); dead-lettering to '\(deadTopic)' failed too: \(error)"))
                return false
            }
        case nil:
            RouteCounters.add(counters.failed)
            eventContinuation.yield(.forwardFailed(route: route.name, error: reason))
            return false
        }
    }

    /// Kafka → NATS (core or JetStream) through the group run loop, a partition's fetched batch at
    /// a time: the batch's offsets are committed only after the NATS server confirmed every
    /// publish (a flush round trip) or JetStream acknowledged every message.
    private func kafkaToNATS(_ route: BridgeRoute, topics: [String], group: String, template: BridgeSubjectTemplate,
                             jetStream: JetStreamContext?, counters: RouteCounters) async throws(BridgeError) {
        var configuration = KafkaGroupConsumerConfiguration(groupID: group, topics: topics)
        // A route works through fetched records slower than they arrive, so it holds as many as
        // the consumer may buffer: 16 MiB keeps the rate of 64 MiB at about 50 MB less memory.
        configuration.fetch.maxBufferedBytes = BridgeRoute.defaultKafkaBufferedBytes
        route.configureGroup?(&configuration)
        let consumer: KafkaGroupConsumer
        do {
            consumer = try kafka.makeGroupConsumer(configuration)
        } catch {
            throw BridgeError(.invalidConfiguration, route: route.name, field: "from.group", "\(error)")
        }
        var deadLetter = KafkaDeadLetterPolicy.none
        if case .kafkaTopic(let topic)? = route.deadLetter {
            deadLetter = KafkaDeadLetterPolicy.topic(topic).notifying { [self] dead in
                RouteCounters.add(counters.deadLettered)
                self.eventContinuation.yield(.deadLettered(route: route.name, destination: "Kafka topic '\(dead.destination)'", reason: "\(dead.reason)"))
            }
        }
        let bridgeID = id
        let nats = self.nats
        let running = Task {
            try await consumer.run(concurrency: route.concurrency, retry: route.retry, deadLetter: deadLetter) { batch in
                if batch.context.attempt == 1 { RouteCounters.add(counters.received, batch.records.count) }
                var confirmed: Int64?
                var pending: [(offset: Int64, handle: JetStreamPublishHandle?)] = []
                func confirm() async throws {
                    if jetStream != nil {
                        for (offset, handle) in pending {
                            _ = try await handle?.value()
                            confirmed = offset
                        }
                    } else if !pending.isEmpty {
                        try await nats.flush()
                        confirmed = pending.last?.offset
                    }
                    RouteCounters.add(counters.forwarded, pending.count)
                    RouteCounters.add(counters.inFlight, -pending.count)
                    pending.removeAll()
                }
                do {
                    for record in batch.records {
                        if BridgeMapping.isOwn(record.headers, bridge: bridgeID) {
                            if batch.context.attempt == 1 { RouteCounters.add(counters.skipped) }
                            continue
                        }
                        var subject: String
                        do throws(BridgeError) {
                            subject = try template.render(record)
                        } catch {
                            throw BridgeError(.unmappable, route: route.name, error.message)
                        }
                        let headers = BridgeMapping.natsHeaders(for: record, bridge: bridgeID)
                        RouteCounters.add(counters.inFlight)
                        if let jetStream {
                            var options = JetStreamPublishOptions()
                            options.messageID = "\(record.topic)/\(record.partition)/\(record.offset)"
                            pending.append((record.offset, try await jetStream.publishAsync(record.value ?? [], to: subject, headers: headers, options: options)))
                        } else {
                            try await nats.publishWaiting(record.value ?? [], to: subject, headers: headers)
                            pending.append((record.offset, nil))
                        }
                        if pending.count >= route.maxInFlight { try await confirm() }
                    }
                    try await confirm()
                } catch {
                    // Keep what was confirmed; the rest is offered again, or dead-lettered.
                    RouteCounters.add(counters.inFlight, -pending.count)
                    if let confirmed { batch.resolve(through: confirmed) }
                    throw error
                }
            }
        }
        onStop { running.cancel() }
        eventContinuation.yield(.routeStarted(route: route.name))
        do {
            try await running.value
        } catch {
            await consumer.close()
            throw BridgeError(.routeFailed, route: route.name, "the Kafka group run loop ended: \(error)")
        }
        await consumer.close()
    }
}
