import Testing
import TributaryKafkaProtocol
import TributaryWire

/// InitProducerId golden bodies at the lowest (0) and highest (5) supported versions. The bytes
/// were encoded by kafka-python 3.0.12 (`kafka.protocol.producer.InitProducerIdRequest` /
/// `Response`) with Tests/Fixtures/kafka-golden/make_golden.py, not by Tributary.
@Suite("InitProducerId")
struct InitProducerIdTests {
    @Test("request and response v0: a null transactional id for an idempotent producer")
    func version0() throws {
        let request = InitProducerIdRequest(transactionalID: nil, transactionTimeoutMs: 60_000)
        // make_golden.py: InitProducerIdRequest v0
        try expectGolden(request, version: 0, """
            FFFF                      // transactional id: null
            0000EA60                  // transaction timeout 60000 ms
            """)
        // make_golden.py: InitProducerIdResponse v0
        try expectGolden(InitProducerIdResponse(throttleTimeMs: 0, errorCode: 0, producerID: 4001, producerEpoch: 0), version: 0, """
            00000000                  // throttle time 0
            0000                      // no error
            0000000000000FA1          // producer id 4001
            0000                      // epoch 0
            """)
    }

    @Test("request and response v5: the current id and epoch (KIP-360), tagged-field sections")
    func version5() throws {
        let request = InitProducerIdRequest(transactionalID: "saga-1", transactionTimeoutMs: 60_000, producerID: 4001, producerEpoch: 3)
        // make_golden.py: InitProducerIdRequest v5
        try expectGolden(request, version: 5, """
            07 736167612D31           // transactional id "saga-1"
            0000EA60                  // transaction timeout 60000 ms
            0000000000000FA1          // producer id 4001
            0003                      // epoch 3
            00                        // no tagged fields
            """)
        // make_golden.py: InitProducerIdResponse v5
        try expectGolden(InitProducerIdResponse(throttleTimeMs: 10, errorCode: 51, producerID: -1, producerEpoch: -1), version: 5, """
            0000000A                  // throttle time 10 ms
            0033                      // error 51: concurrent transactions
            FFFFFFFFFFFFFFFF          // producer id -1
            FFFF                      // epoch -1
            00                        // no tagged fields
            """)
    }
}
