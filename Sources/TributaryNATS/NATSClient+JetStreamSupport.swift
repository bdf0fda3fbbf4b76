// Public additions the JetStream module builds on. They use only the client's configuration,
// not the connection internals.

extension NATSClient {
    /// A new unique inbox subject under the configured `inboxPrefix` (like nats.go `NewInbox`):
    /// `<inboxPrefix>.<22 random base-62 characters>`.
    ///
    /// Use it as the reply subject of a publish whose answers arrive on a subscription of your own.
    public func newInbox() -> String {
        core.options.inboxPrefix + "." + Self.randomToken()
    }

    /// 22 random base-62 characters (about 131 bits).
    static func randomToken() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 22)
        for index in bytes.indices { bytes[index] = alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] }
        return String(decoding: bytes, as: UTF8.self)
    }
}
