#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TributaryNATS

/// A message read from a stream by sequence or by subject.
public struct JetStreamStoredMessage: Sendable, Hashable {
    /// The subject it was published to.
    public var subject: String
    /// Its stream sequence.
    public var sequence: UInt64
    /// Its headers, if any (a direct get adds `Nats-Stream`, `Nats-Subject`, `Nats-Sequence`, `Nats-Time-Stamp`).
    public var headers: NATSHeaders?
    /// Its payload.
    public var payload: [UInt8]
    /// When it was stored (RFC 3339 text as the server sent it).
    public var time: String

    /// Creates a stored message.
    public init(subject: String, sequence: UInt64, headers: NATSHeaders?, payload: [UInt8], time: String) {
        self.subject = subject
        self.sequence = sequence
        self.headers = headers
        self.payload = payload
        self.time = time
    }

    /// The payload as UTF-8 text.
    public var string: String { String(decoding: payload, as: UTF8.self) }
}

extension JetStreamContext {
    // MARK: Create, update, info, delete

    /// Creates a stream. Creating an existing stream with the same configuration succeeds.
    ///
    /// - Throws: `.apiError` with `apiErrorCode` `.streamNameExist` when it exists with another
    ///   configuration, `.streamSubjectOverlap`, `.streamInvalidConfig`…; `.invalidArgument` for a bad name.
    @discardableResult
    public func createStream(_ config: StreamConfig) async throws(JetStreamError) -> StreamInfo {
        try Self.validateName(config.name, what: "stream")
        let info = try await request(JetStreamAPISubject.streamCreate(stream: config.name), body: config, as: StreamInfo.self, stream: config.name)
        remember(info)
        return info
    }

    /// Replaces a stream's configuration (fields left nil take the server's defaults).
    ///
    /// - Throws: `.streamNotFound`, or `.apiError` when the change is not allowed.
    @discardableResult
    public func updateStream(_ config: StreamConfig) async throws(JetStreamError) -> StreamInfo {
        try Self.validateName(config.name, what: "stream")
        let info = try await request(JetStreamAPISubject.streamUpdate(stream: config.name), body: config, as: StreamInfo.self, stream: config.name)
        remember(info)
        return info
    }

    /// A stream's configuration and state.
    ///
    /// With `subjectsFilter` (`>` for all), `state.subjects` holds the message count of every
    /// matching subject; the server pages them and this call reads every page.
    /// - Throws: `.streamNotFound`.
    public func streamInfo(_ name: String, subjectsFilter: String? = nil, deletedDetails: Bool = false) async throws(JetStreamError) -> StreamInfo {
        try Self.validateName(name, what: "stream")
        let subject = JetStreamAPISubject.streamInfo(stream: name)
        var request = StreamInfoRequest(offset: nil, deletedDetails: deletedDetails ? true : nil, subjectsFilter: subjectsFilter)
        var info = try await self.request(subject, body: request, as: StreamInfo.self, stream: name)
        remember(info)
        guard subjectsFilter != nil, let total = info.state.numSubjects else { return info }
        var subjects = info.state.subjects ?? [:]
        // Pages continue while the server reports more subjects than received; stop on an
        // empty page so a shrinking stream cannot loop.
        while subjects.count < total {
            request.offset = subjects.count
            let page = try await self.request(subject, body: request, as: StreamInfo.self, stream: name)
            let more = page.state.subjects ?? [:]
            let before = subjects.count
            subjects.merge(more) { _, new in new }
            if subjects.count == before { break }
        }
        info.state.subjects = subjects
        return info
    }

    /// Deletes a stream with its messages and consumers.
    ///
    /// - Throws: `.streamNotFound`.
    public func deleteStream(_ name: String) async throws(JetStreamError) {
        try Self.validateName(name, what: "stream")
        let response = try await request(JetStreamAPISubject.streamDelete(stream: name), as: SuccessResponse.self, stream: name)
        guard response.success == true else {
            throw JetStreamError(.apiError, "the server did not confirm deleting stream '\(name)'; check it with streamInfo", apiSubject: apiSubject(JetStreamAPISubject.streamDelete(stream: name)), stream: name)
        }
        directGetAllowed.withLock { _ = $0.removeValue(forKey: name) }
    }

    /// Removes messages from a stream and returns how many were removed.
    ///
    /// - Parameters:
    ///   - subject: only messages on this subject (wildcards allowed); nil for all subjects.
    ///   - keep: keep this many of the newest (matching) messages.
    ///   - upToSequence: remove (matching) messages below this sequence, not including it.
    /// Give at most one of `keep` and `upToSequence`; with neither, every (matching) message goes.
    /// - Throws: `.invalidArgument` when both are given, `.streamNotFound`, `.apiError` (deny_purge).
    @discardableResult
    public func purgeStream(_ name: String, subject: String? = nil, keep: UInt64? = nil, upToSequence: UInt64? = nil) async throws(JetStreamError) -> UInt64 {
        try Self.validateName(name, what: "stream")
        if keep != nil, upToSequence != nil {
            throw JetStreamError(.invalidArgument, "purge of stream '\(name)': give keep or upToSequence, not both", stream: name)
        }
        let body = StreamPurgeRequest(sequence: upToSequence, filter: subject, keep: keep)
        let response = try await request(JetStreamAPISubject.streamPurge(stream: name), body: body, as: StreamPurgeResponse.self, stream: name)
        return response.purged
    }

    // MARK: Names and list

    /// The names of every stream (optionally only those storing `subject`), reading every page.
    public func streamNames(subject: String? = nil) async throws(JetStreamError) -> [String] {
        var names: [String] = []
        while true {
            let page = try await request(JetStreamAPISubject.streamNames(), body: StreamNamesRequest(offset: names.count, subject: subject),
                                         as: StreamNamesResponse.self)
            let entries = page.streams ?? []
            names.append(contentsOf: entries)
            if entries.isEmpty || names.count >= page.total { return names }
        }
    }

    /// The info of every stream (optionally only those storing `subject`), reading every page.
    public func streams(subject: String? = nil) async throws(JetStreamError) -> [StreamInfo] {
        var infos: [StreamInfo] = []
        while true {
            let page = try await request(JetStreamAPISubject.streamList(), body: StreamNamesRequest(offset: infos.count, subject: subject),
                                         as: StreamListResponse.self)
            let entries = page.streams ?? []
            infos.append(contentsOf: entries)
            if entries.isEmpty || infos.count >= page.total { return infos }
        }
    }

    // MARK: Messages

    /// Reads the message with stream sequence `sequence`.
    ///
    /// Uses direct get when the stream allows it (any replica answers), `STREAM.MSG.GET` otherwise.
    /// - Throws: `.messageNotFound`, `.streamNotFound`.
    public func getMessage(stream: String, sequence: UInt64) async throws(JetStreamError) -> JetStreamStoredMessage {
        try Self.validateName(stream, what: "stream")
        return try await getMessage(stream: stream, request: MessageGetRequest(sequence: sequence), lastSubject: nil)
    }

    /// Reads the newest message on `subject` (no wildcards).
    ///
    /// - Throws: `.messageNotFound`, `.streamNotFound`.
    public func getLastMessage(stream: String, subject: String) async throws(JetStreamError) -> JetStreamStoredMessage {
        try Self.validateName(stream, what: "stream")
        return try await getMessage(stream: stream, request: MessageGetRequest(lastBySubject: subject), lastSubject: subject)
    }

    /// Deletes one message. With `erase` (the default) its bytes are overwritten too.
    ///
    /// - Throws: `.apiError` (`streamMessageDeleteFailed`) when there is no such message, `.streamNotFound`.
    public func deleteMessage(stream: String, sequence: UInt64, erase: Bool = true) async throws(JetStreamError) {
        try Self.validateName(stream, what: "stream")
        let subject = JetStreamAPISubject.streamMessageDelete(stream: stream)
        let response = try await request(subject, body: MessageDeleteRequest(sequence: sequence, noErase: erase ? nil : true),
                                         as: SuccessResponse.self, stream: stream)
        guard response.success == true else {
            throw JetStreamError(.apiError, "the server did not confirm deleting message \(sequence) of stream '\(stream)'", apiSubject: apiSubject(subject), stream: stream)
        }
    }

    private func getMessage(stream: String, request body: MessageGetRequest, lastSubject: String?) async throws(JetStreamError) -> JetStreamStoredMessage {
        var direct = directGetAllowed.withLock { $0[stream] }
        if direct == nil {
            direct = try await streamInfo(stream).config.allowDirect ?? false
        }
        if direct == true {
            return try await directGet(stream: stream, request: body, lastSubject: lastSubject)
        }
        let subject = JetStreamAPISubject.streamMessageGet(stream: stream)
        let response = try await request(subject, body: body, as: MessageGetResponse.self, stream: stream)
        guard let stored = response.message else {
            throw JetStreamError(.invalidResponse, "the response to \(apiSubject(subject)) has neither a message nor an error", apiSubject: apiSubject(subject), stream: stream)
        }
        var headers: NATSHeaders?
        if let block = stored.headers, !block.isEmpty {
            let parsed = block.withUnsafeBytes { raw -> Result<NATSHeaders, NATSProtocolError> in
                do throws(NATSProtocolError) { return .success(try NATSHeaders.parse(raw)) } catch { return .failure(error) }
            }
            switch parsed {
            case .success(let value): headers = value
            case .failure(let error):
                throw JetStreamError(.invalidResponse, "the headers of message \(stored.sequence) from \(apiSubject(subject)) do not parse: \(error.message)", apiSubject: apiSubject(subject), stream: stream, underlying: error)
            }
        }
        return JetStreamStoredMessage(subject: stored.subject, sequence: stored.sequence, headers: headers, payload: stored.data ?? [], time: stored.time)
    }

    private func directGet(stream: String, request body: MessageGetRequest, lastSubject: String?) async throws(JetStreamError) -> JetStreamStoredMessage {
        let relative = lastSubject.map { JetStreamAPISubject.directGetLastBySubject(stream: stream, subject: $0) } ?? JetStreamAPISubject.directGet(stream: stream)
        let subject = apiSubject(relative)
        let payload = lastSubject == nil ? try encode(body, apiSubject: subject) : []
        let reply: NATSMessage
        do {
            reply = try await client.request(payload, to: subject, timeout: options.requestTimeout)
        } catch {
            throw JetStreamError.fromNATS(error, apiSubject: subject, stream: stream)
        }
        if let status = reply.status {
            let text = reply.headers?.statusDescription ?? ""
            if status == 404 {
                throw JetStreamError(.messageNotFound, "no message \(lastSubject.map { "on subject '\($0)'" } ?? "with sequence \(body.sequence ?? 0)") in stream '\(stream)'; check the sequence range in stream info",
                                     apiSubject: subject, stream: stream, status: status, serverDescription: text)
            }
            throw JetStreamError(.apiError, "direct get from stream '\(stream)' failed with status \(status) \(text)", apiSubject: subject, stream: stream, status: status, serverDescription: text)
        }
        guard let headers = reply.headers, let messageSubject = headers[JetStreamHeader.subject],
              let sequenceText = headers[JetStreamHeader.sequence], let sequence = UInt64(sequenceText) else {
            throw JetStreamError(.invalidResponse, "the reply to \(subject) lacks the Nats-Subject or Nats-Sequence header", apiSubject: subject, stream: stream)
        }
        return JetStreamStoredMessage(subject: messageSubject, sequence: sequence, headers: headers, payload: reply.payload,
                                      time: headers[JetStreamHeader.timeStamp] ?? "")
    }

    func remember(_ info: StreamInfo) {
        directGetAllowed.withLock { $0[info.config.name] = info.config.allowDirect ?? false }
    }
}
