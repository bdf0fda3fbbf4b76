// Public additions the JetStream module builds on. They use only the client's configuration,
// not the connection internals.

extension NATSClient {
    /// A new unique inbox subject under the configured `inboxPrefix` (like nats.go `NewInbox`):
    /// `<inboxPrefix>.<22 base-62 characters>`, a random prefix and a sequence (nuid), so no two
    /// inboxes of a process are the same and making one costs no system call.
    ///
    /// Use it as the reply subject of a publish whose answers arrive on a subscription of your own.
    public func newInbox() -> String {
        core.options.inboxPrefix + "." + NUID.next()
    }
}
