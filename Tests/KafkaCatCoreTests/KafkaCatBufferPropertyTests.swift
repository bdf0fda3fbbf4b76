import KafkaCatCore
import Testing
import ToolSupport
import TributaryKafka

@Suite("kafka-cat's consumer buffer property")
struct KafkaCatBufferPropertyTests {
    @Test func queuedMaxKilobytesBoundsTheConsumerBuffer() throws {
        var consumer = KafkaConsumerConfiguration()
        try KafkaCatProperties(["queued.max.messages.kbytes=2048"]).apply(to: &consumer)
        #expect(consumer.maxBufferedBytes == 2 * 1024 * 1024)
        #expect(throws: UsageError.self) { try KafkaCatProperties(["queued.max.messages.kbytes=0"]) }
    }
}
