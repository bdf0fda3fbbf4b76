extension PullRequest {
    /// The request's JSON, written directly: the bytes the context's `JSONEncoder` makes of it
    /// (keys sorted, nil fields left out, durations as integer nanoseconds),
    /// without the encoder's per-call set-up, which cost about as much as a whole fetch of
    /// small messages. A consumer sends one per pull.
    var wireJSON: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96)
        out.append(contentsOf: "{\"batch\":\(batch)".utf8)
        // Every field after `batch`, the first key in sorted order.
        func field(_ name: StaticString, _ value: Int64) {
            out.append(contentsOf: ",\"".utf8)
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(contentsOf: "\":\(value)".utf8)
        }
        if let expires { field("expires", expires.wholeNanoseconds) }
        if let idleHeartbeat { field("idle_heartbeat", idleHeartbeat.wholeNanoseconds) }
        if let maxBytes { field("max_bytes", Int64(maxBytes)) }
        if let noWait {
            out.append(contentsOf: noWait ? ",\"no_wait\":true".utf8 : ",\"no_wait\":false".utf8)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
