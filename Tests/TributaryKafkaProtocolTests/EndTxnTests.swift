import Testing
import TributaryKafkaProtocol
import TributaryWire

/// EndTxn golden bodies at the lowest (0) and highest (3) supported versions, encoded by
/// kafka-python 3.0.12 (`kafka.protocol.producer.EndTxnRequest` / `Response`) with
/// Tests/Fixtures/kafka-golden/make_golden.py.
@Suite("EndTxn")
struct EndTxnTests {
    @Test("request and response v0: commit")
    func version0() throws {
        // make_golden.py: EndTxnRequest v0
        try expectGolden(EndTxnRequest(transactionalID: "saga-1", producerID: 4001, producerEpoch: 3, committed: true), version: 0, """
            0006 736167612D31         // transactional id "saga-1"
            0000000000000FA1          // producer id 4001
            0003                      // epoch 3
            01                        // commit
            """)
        // make_golden.py: EndTxnResponse v0
        try expectGolden(EndTxnResponse(throttleTimeMs: 0, errorCode: 0), version: 0, """
            00000000                  // throttle time 0
            0000                      // no error
            """)
    }

    @Test("request and response v3: abort answered CONCURRENT_TRANSACTIONS")
    func version3() throws {
        // make_golden.py: EndTxnRequest v3
        try expectGolden(EndTxnRequest(transactionalID: "saga-1", producerID: 4001, producerEpoch: 3, committed: false), version: 3, """
            07 736167612D31           // transactional id "saga-1"
            0000000000000FA1          // producer id 4001
            0003                      // epoch 3
            00                        // abort
            00                        // no tagged fields
            """)
        // make_golden.py: EndTxnResponse v3
        try expectGolden(EndTxnResponse(throttleTimeMs: 0, errorCode: 51), version: 3, """
            00000000                  // throttle time 0
            0033                      // error 51: concurrent transactions
            00                        // no tagged fields
            """)
    }
}
