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
