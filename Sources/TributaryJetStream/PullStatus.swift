/// What a status message on a pull request's inbox means (ADR-13). Pure: built from the status
/// code, its description and two headers.
enum PullStatus: Equatable, Sendable {
    /// 100 Idle Heartbeat: the request is alive; nothing to deliver.
    case heartbeat
    /// 404 No Messages: a no-wait request found nothing; the request is over.
    case noMessages(pendingMessages: Int?, pendingBytes: Int?)
    /// 408 Request Timeout: the request expired; the request is over.
    case requestExpired(pendingMessages: Int?, pendingBytes: Int?)
    /// 409 Batch Completed / Message Size Exceeds MaxBytes: the request is over early.
    case requestEnded(pendingMessages: Int?, pendingBytes: Int?, reason: String)
    /// 409 Leadership Change: every open request is gone; pull again.
    case leadershipChange
    /// 409 Consumer Deleted: nothing more will come.
    case consumerDeleted
    /// 409 Server Shutdown: the server is stopping; open requests are gone.
    case serverShutdown
    /// 503: nothing received the pull request (the consumer does not exist, or JetStream is down).
    case noResponders
    /// Another 4xx (Exceeded MaxWaiting, MaxRequestBatch, …, 400 Bad Request): the request was refused.
    case refused(status: Int, description: String)

    /// Classifies a status; nil when `status` is nil (a stored message).
    init?(status: Int?, description: String?, pendingMessages: String?, pendingBytes: String?) {
        guard let status else { return nil }
        let text = description ?? ""
        let lower = text.lowercased()
        let messages = pendingMessages.flatMap { Int($0) }
        let bytes = pendingBytes.flatMap { Int($0) }
        switch status {
        case 100: self = .heartbeat
        case 404: self = .noMessages(pendingMessages: messages, pendingBytes: bytes)
        case 408:
            // 408 also answers a malformed request ("Bad Request"); only expiry carries the
            // "Request Timeout" text, but both end the request.
            if lower.contains("timeout") || messages != nil {
                self = .requestExpired(pendingMessages: messages, pendingBytes: bytes)
            } else {
                self = .refused(status: status, description: text)
            }
        case 409:
            if lower.hasPrefix("leadership change") {
                self = .leadershipChange
            } else if lower.hasPrefix("consumer deleted") {
                self = .consumerDeleted
            } else if lower.hasPrefix("server shutdown") {
                self = .serverShutdown
            } else if lower.hasPrefix("batch completed") || lower.hasPrefix("message size exceeds maxbytes") {
                self = .requestEnded(pendingMessages: messages, pendingBytes: bytes, reason: text)
            } else {
                self = .refused(status: status, description: text)
            }
        case 503: self = .noResponders
        default: self = .refused(status: status, description: text)
        }
    }
}
