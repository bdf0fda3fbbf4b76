// Protocol-module types that appear in this module's public API: users of the client name them
// with `import TributaryKafka` alone.
@_exported import struct TributaryKafkaProtocol.KafkaRecord
@_exported import struct TributaryKafkaProtocol.KafkaTopicPartition
@_exported import struct TributaryKafkaProtocol.KafkaTopicPartitions
@_exported import struct TributaryKafkaProtocol.KafkaErrorCode
@_exported import enum TributaryKafkaProtocol.KafkaAPIKey
@_exported import enum TributaryKafkaProtocol.KafkaPartitionAssignor
@_exported import enum TributaryKafkaProtocol.KafkaTimestampType
@_exported import enum TributaryCompression.KafkaCompressionCodec
// SASL: the protocol layer's mechanism types and its error (found in `KafkaError.underlying`).
@_exported import struct TributaryKafkaProtocol.SCRAMClient
@_exported import enum TributaryKafkaProtocol.SASLError
@_exported import enum TributaryKafkaProtocol.SASLPlain
@_exported import struct TributaryKafkaProtocol.KafkaSASLExchange
// The stream a connection runs on (`KafkaClientConfiguration.streamFactory`).
@_exported import protocol TributaryTransport.TransportStream
@_exported import typealias TributaryTransport.TransportStreamFactory
@_exported import class TributaryTransport.SocketStream
@_exported import struct TributaryTransport.TCPSocket
@_exported import struct TributaryTransport.TransportError
// TLS settings (`KafkaClientConfiguration.tls`).
@_exported import struct TributaryTLS.TLSConfiguration
// The producer machine: `KafkaProducerStatistics` is its counters type.
@_exported import struct TributaryKafkaProtocol.KafkaProducerMachine
