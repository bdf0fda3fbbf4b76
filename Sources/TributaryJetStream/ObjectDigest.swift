import TributaryCrypto
import TributaryWire

/// The SHA-256 digest of an object's data and its text form in ``ObjectInfo/digest``.
///
/// ADR-20 names the form `SHA-256=<base64url digest>`. nats.go and nats-py write the base64url
/// text **with** `=` padding (44 characters) and nats-py only reads it padded, so this client
/// writes it padded too; reading accepts it with or without padding, and the `SHA-256` prefix
/// in any letter case.
public struct ObjectDigest: Sendable, Hashable {
    /// The 32 digest bytes.
    public let bytes: [UInt8]

    /// Wraps digest bytes (32 for SHA-256).
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// The digest of `data`.
    public init<Bytes: Sequence>(of data: Bytes) where Bytes.Element == UInt8 {
        bytes = SHA256.hash(data)
    }

    /// The text stored in object info: `SHA-256=` and the padded base64url digest.
    public var text: String { "SHA-256=" + Base64URL.encode(bytes, padding: true) }

    /// Parses `SHA-256=<base64url>`; nil when the prefix is another algorithm or the value is
    /// not base64url of 32 bytes.
    public init?(text: String) {
        guard let separator = text.firstIndex(of: "=") else { return nil }
        guard text[..<separator].uppercased() == "SHA-256" else { return nil }
        guard let decoded = Base64URL.decode(String(text[text.index(after: separator)...])), decoded.count == 32 else { return nil }
        bytes = decoded
    }
}
