/// Looks up the codec for a Kafka compression type.
public enum Compression {
    /// Returns the codec for `codec`, configured the way Kafka clients interoperate:
    /// `.none` copies bytes unchanged, `.gzip` is ``GzipCodec`` at level 6, `.snappy` is
    /// ``SnappyCodec`` writing raw snappy (decoding raw and xerial), `.lz4` is ``LZ4Codec``
    /// (64 KiB independent blocks, like Kafka's Java client) and `.zstd` is ``ZstdCodec``.
    ///
    /// - Throws: ``CompressionError`` with code `.unsupported` for a codec this version cannot
    ///   handle; every codec Kafka defines today is supported, so this does not throw now.
    public static func codec(for codec: KafkaCompressionCodec) throws(CompressionError) -> any CompressionCodec {
        switch codec {
        case .none: IdentityCodec()
        case .gzip: GzipCodec()
        case .snappy: SnappyCodec()
        case .lz4: LZ4Codec()
        case .zstd: ZstdCodec()
        }
    }
}
