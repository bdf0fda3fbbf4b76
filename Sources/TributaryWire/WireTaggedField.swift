/// One entry of a tagged-field section (KIP-482): a tag number and the raw bytes of its value.
///
/// Decoders keep tagged fields they do not know in this form, so a message can be re-encoded
/// without losing them; encoders write them back in ascending tag order.
public struct WireTaggedField: Hashable, Sendable {
    /// The tag number, unique within one section.
    public var tag: UInt32
    /// The encoded value, without the tag and size prefix.
    public var bytes: [UInt8]

    /// Creates a tagged field from already encoded bytes.
    public init(tag: UInt32, bytes: [UInt8]) {
        self.tag = tag
        self.bytes = bytes
    }

    /// Creates a tagged field whose value `encode` writes.
    public init(tag: UInt32, encoding encode: (inout ByteWriter) throws(WireEncodingError) -> Void) throws(WireEncodingError) {
        var writer = ByteWriter()
        try encode(&writer)
        self.init(tag: tag, bytes: writer.bytes)
    }
}
