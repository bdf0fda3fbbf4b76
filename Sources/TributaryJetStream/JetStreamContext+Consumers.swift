import TributaryNATS

extension JetStreamContext {
    /// Creates a consumer; fails if one with the same name exists with another configuration.
    ///
    /// A consumer with `durableName` or `name` is named; without either the server picks a
    /// name (an ephemeral consumer, removed after `inactiveThreshold` without pulls). The ack
    /// policy defaults to `explicit` when nil. The request goes to
    /// `CONSUMER.CREATE.<stream>.<name>.<filter>` when there is one filter subject, so permissions
    /// can be granted per filter.
    /// - Throws: `.streamNotFound`; `.apiError` with `.consumerAlreadyExists`,
    ///   `.consumerMaxDeliverBackoff`, `.consumerCreate`…; `.invalidArgument` for a bad name.
    public func createConsumer(stream: String, config: ConsumerConfig) async throws(JetStreamError) -> JetStreamConsumer {
        try await putConsumer(stream: stream, config: config, action: .create)
    }

    /// Updates an existing consumer's configuration.
    ///
    /// - Throws: `.apiError` with `.consumerDoesNotExist` when there is none.
    public func updateConsumer(stream: String, config: ConsumerConfig) async throws(JetStreamError) -> JetStreamConsumer {
        try await putConsumer(stream: stream, config: config, action: .update)
    }

    /// Creates a consumer, or updates it when it exists.
    public func createOrUpdateConsumer(stream: String, config: ConsumerConfig) async throws(JetStreamError) -> JetStreamConsumer {
        try await putConsumer(stream: stream, config: config, action: .createOrUpdate)
    }

    private func putConsumer(stream: String, config: ConsumerConfig, action: ConsumerAction) async throws(JetStreamError) -> JetStreamConsumer {
        try Self.validateName(stream, what: "stream")
        var config = config
        if config.ackPolicy == nil { config.ackPolicy = .explicit }
        if let durable = config.durableName, let name = config.name, durable != name {
            throw JetStreamError(.invalidArgument, "consumer durableName '\(durable)' and name '\(name)' differ; set one of them", stream: stream)
        }
        if config.filterSubject != nil, config.filterSubjects != nil {
            throw JetStreamError(.invalidArgument, "set filterSubject or filterSubjects, not both", stream: stream)
        }
        let name = config.name ?? config.durableName
        let relative: String
        if let name {
            try Self.validateName(name, what: "consumer")
            let filters = config.filterSubjects ?? config.filterSubject.map { [$0] } ?? []
            if filters.count == 1, let filter = filters.first, !filter.isEmpty {
                relative = JetStreamAPISubject.consumerCreateFiltered(stream: stream, consumer: name, filter: filter)
            } else {
                relative = JetStreamAPISubject.consumerCreateNamed(stream: stream, consumer: name)
            }
        } else {
            relative = JetStreamAPISubject.consumerCreate(stream: stream)
        }
        let body = CreateConsumerRequest(stream: stream, config: config, action: action == .createOrUpdate ? nil : action)
        let info = try await request(relative, body: body, as: ConsumerInfo.self, stream: stream, consumer: name)
        return JetStreamConsumer(context: self, stream: stream, name: info.name, cachedInfo: info)
    }

    /// A handle for an existing consumer, without asking the server.
    public func consumer(stream: String, name: String) throws(JetStreamError) -> JetStreamConsumer {
        try Self.validateName(stream, what: "stream")
        try Self.validateName(name, what: "consumer")
        return JetStreamConsumer(context: self, stream: stream, name: name, cachedInfo: nil)
    }

    /// A consumer's configuration and state.
    ///
    /// - Throws: `.consumerNotFound`, `.streamNotFound`.
    public func consumerInfo(stream: String, name: String) async throws(JetStreamError) -> ConsumerInfo {
        try Self.validateName(stream, what: "stream")
        try Self.validateName(name, what: "consumer")
        return try await request(JetStreamAPISubject.consumerInfo(stream: stream, consumer: name), as: ConsumerInfo.self, stream: stream, consumer: name)
    }

    /// Deletes a consumer.
    ///
    /// - Throws: `.consumerNotFound`, `.streamNotFound`.
    public func deleteConsumer(stream: String, name: String) async throws(JetStreamError) {
        try Self.validateName(stream, what: "stream")
        try Self.validateName(name, what: "consumer")
        let relative = JetStreamAPISubject.consumerDelete(stream: stream, consumer: name)
        let response = try await request(relative, as: SuccessResponse.self, stream: stream, consumer: name)
        guard response.success == true else {
            throw JetStreamError(.apiError, "the server did not confirm deleting consumer '\(name)'", apiSubject: apiSubject(relative), stream: stream, consumer: name)
        }
    }

    /// The names of a stream's consumers, reading every page.
    public func consumerNames(stream: String) async throws(JetStreamError) -> [String] {
        try Self.validateName(stream, what: "stream")
        var names: [String] = []
        while true {
            let page = try await request(JetStreamAPISubject.consumerNames(stream: stream), body: PagedRequest(offset: names.count),
                                         as: ConsumerNamesResponse.self, stream: stream)
            let entries = page.consumers ?? []
            names.append(contentsOf: entries)
            if entries.isEmpty || names.count >= page.total { return names }
        }
    }

    /// The infos of a stream's consumers, reading every page.
    public func consumers(stream: String) async throws(JetStreamError) -> [ConsumerInfo] {
        try Self.validateName(stream, what: "stream")
        var infos: [ConsumerInfo] = []
        while true {
            let page = try await request(JetStreamAPISubject.consumerList(stream: stream), body: PagedRequest(offset: infos.count),
                                         as: ConsumerListResponse.self, stream: stream)
            let entries = page.consumers ?? []
            infos.append(contentsOf: entries)
            if entries.isEmpty || infos.count >= page.total { return infos }
        }
    }
}
