import Testing
import TributaryKafkaProtocol
import TributaryWire

/// AddOffsetsToTxn golden bodies at the lowest (0) and highest (3) supported versions, encoded
/// by kafka-python 3.0.12 (`kafka.protocol.producer.AddOffsetsToTxnRequest` / `Response`) with
/// Tests/Fixtures/kafka-golden/make_golden.py.
@Suite("AddOffsetsToTxn")
struct AddOffsetsToTxnTests {
    static let request = AddOffsetsToTxnRequest(transactionalID: "saga-1", producerID: 4001, producerEpoch: 3, groupID: "payments")

    @Test("request and response v0")
    func version0() throws {
        // make_golden.py: AddOffsetsToTxnRequest v0
        try expectGolden(Self.request, version: 0, """
            0006 736167612D31         // transactional id "saga-1"
            0000000000000FA1          // producer id 4001
            0003                      // epoch 3
            0008 7061796D656E7473     // group "payments"
            """)
        // make_golden.py: AddOffsetsToTxnResponse v0
        try expectGolden(AddOffsetsToTxnResponse(throttleTimeMs: 0, errorCode: 0), version: 0, """
            00000000                  // throttle time 0
            0000                      // no error
            """)
    }

    @Test("request and response v3: PRODUCER_FENCED")
    func version3() throws {
        // make_golden.py: AddOffsetsToTxnRequest v3
        try expectGolden(Self.request, version: 3, """
            07 736167612D31           // transactional id "saga-1"
            0000000000000FA1          // producer id 4001
            0003                      // epoch 3
            09 7061796D656E7473       // group "payments"
            00                        // no tagged fields
            """)
        // make_golden.py: AddOffsetsToTxnResponse v3
        try expectGolden(AddOffsetsToTxnResponse(throttleTimeMs: 5, errorCode: 90), version: 3, """
            00000005                  // throttle time 5 ms
            005A                      // error 90: producer fenced
            00                        // no tagged fields
            """)
    }
}
