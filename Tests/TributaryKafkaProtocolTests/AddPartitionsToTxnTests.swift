import Testing
import TributaryKafkaProtocol
import TributaryWire

/// AddPartitionsToTxn golden bodies at the lowest (0) and highest (3) supported versions. The
/// bytes were encoded by kafka-python 3.0.12 (`kafka.protocol.producer.AddPartitionsToTxnRequest`
/// / `Response`, its `V3AndBelow` fields) with Tests/Fixtures/kafka-golden/make_golden.py.
@Suite("AddPartitionsToTxn")
struct AddPartitionsToTxnTests {
    static let request = AddPartitionsToTxnRequest(
        transactionalID: "saga-1", producerID: 4001, producerEpoch: 3,
        topics: [.init(name: "orders", partitions: [0, 2]), .init(name: "audit", partitions: [1])])
    static let response = AddPartitionsToTxnResponse(throttleTimeMs: 0, resultsByTopic: [
        .init(name: "orders", resultsByPartition: [.init(partitionIndex: 0, partitionErrorCode: 0), .init(partitionIndex: 2, partitionErrorCode: 51)]),
    ])

    @Test("request and response v0: two topics; one partition refused with CONCURRENT_TRANSACTIONS")
    func version0() throws {
        // make_golden.py: AddPartitionsToTxnRequest v0
        try expectGolden(Self.request, version: 0, """
            0006 736167612D31         // transactional id "saga-1"
            0000000000000FA1          // producer id 4001
            0003                      // epoch 3
            00000002                  // 2 topics
            0006 6F7264657273         // "orders"
            00000002 00000000 00000002 // partitions 0, 2
            0005 6175646974           // "audit"
            00000001 00000001         // partition 1
            """)
        // make_golden.py: AddPartitionsToTxnResponse v0
        try expectGolden(Self.response, version: 0, """
            00000000                  // throttle time 0
            00000001                  // 1 topic
            0006 6F7264657273         // "orders"
            00000002                  // 2 partitions
            00000000 0000             // partition 0: no error
            00000002 0033             // partition 2: error 51 (concurrent transactions)
            """)
    }

    @Test("request and response v3: compact lengths and tagged-field sections")
    func version3() throws {
        // make_golden.py: AddPartitionsToTxnRequest v3
        try expectGolden(Self.request, version: 3, """
            07 736167612D31           // transactional id "saga-1"
            0000000000000FA1          // producer id 4001
            0003                      // epoch 3
            03                        // 2 topics
            07 6F7264657273           // "orders"
            03 00000000 00000002      // partitions 0, 2
            00                        // no tagged fields
            06 6175646974             // "audit"
            02 00000001               // partition 1
            00                        // no tagged fields
            00                        // no tagged fields
            """)
        // make_golden.py: AddPartitionsToTxnResponse v3
        try expectGolden(Self.response, version: 3, """
            00000000                  // throttle time 0
            02                        // 1 topic
            07 6F7264657273           // "orders"
            03                        // 2 partitions
            00000000 0000 00          // partition 0: no error
            00000002 0033 00          // partition 2: error 51
            00                        // no tagged fields
            00                        // no tagged fields
            """)
    }

    @Test("versions 4 and later (broker to broker) are refused with a typed error")
    func brokerVersionsRefused() {
        var writer = ByteWriter()
        #expect(throws: WireEncodingError.self) { try Self.request.encode(into: &writer, version: 4) }
        #expect(writer.count == 0)
    }
}
