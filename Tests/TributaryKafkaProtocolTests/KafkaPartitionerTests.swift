import Testing
import TributaryKafkaProtocol
import TributaryTestSupport

@Suite("Kafka default partitioner (Java-compatible)")
struct KafkaPartitionerTests {
    /// Golden vectors of Apache Kafka's UtilsTest.testMurmur2 (clients module).
    @Test(arguments: [
        ("21", Int32(-973_932_308)),
        ("foobar", -790_332_482),
        ("a-little-bit-long-string", -985_981_536),
        ("a-little-bit-longer-string", -1_486_304_829),
        ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
        ("abc", 479_470_107),
    ])
    func murmur2MatchesTheJavaClient(key: String, expected: Int32) {
        #expect(KafkaPartitioner.murmur2(Array(key.utf8)) == expected)
    }

    @Test func keyedPartitionIsPositiveModulo() {
        // "21" hashes to -973932308; with the sign bit cleared that is 1173551340.
        #expect(KafkaPartitioner.partition(forKey: Array("21".utf8), partitionCount: 6) == 1_173_551_340 % 6)
        var rng = SeededRandom()
        for _ in 0..<1000 {
            let key = (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let count = Int.random(in: 1...64, using: &rng)
            let partition = KafkaPartitioner.partition(forKey: key, partitionCount: count)
            #expect((0..<count).contains(partition), "seed \(rng.seed)")
            #expect(partition == KafkaPartitioner.partition(forKey: key, partitionCount: count), "seed \(rng.seed)")
        }
    }

    @Test func stickyPartitionHoldsUntilBatchCompletesThenMoves() {
        var rng = SeededRandom()
        var sticky = KafkaStickyPartition()
        let first = sticky.partition(partitionCount: 6, using: &rng)
        for _ in 0..<100 { #expect(sticky.partition(partitionCount: 6, using: &rng) == first) }
        sticky.batchCompleted(partitionCount: 6, using: &rng)
        let second = sticky.partition(partitionCount: 6, using: &rng)
        #expect(second != first, "seed \(rng.seed)")
        var single = KafkaStickyPartition()
        #expect(single.partition(partitionCount: 1, using: &rng) == 0)
        single.batchCompleted(partitionCount: 1, using: &rng)
        #expect(single.partition(partitionCount: 1, using: &rng) == 0)
    }
}
