import Testing
import TributaryKafkaProtocol
import TributaryWire

/// Fetch golden bodies at the lowest (4) and highest (17) supported versions. The bytes were
/// encoded by kafka-python 3.0.12 (`kafka.protocol.consumer.FetchRequest` / `FetchResponse`) with
/// Tests/Fixtures/kafka-golden/make_golden.py, not by Tributary; each block is labelled with the
/// script's case name, and `make_golden.py --check` compares the blocks with a fresh run.
@Suite("Fetch")
struct FetchTests {
    @Test("request v4: replica id, isolation level, topics by name")
    func requestV4() throws {
        let request = FetchRequest(
            replicaID: -1, maxWaitMs: 500, minBytes: 1, maxBytes: 52_428_800, isolationLevel: 1,
            topics: [.init(topic: "orders", partitions: [.init(partition: 2, fetchOffset: 1234, partitionMaxBytes: 1_048_576)])]
        )
        // make_golden.py: FetchRequest v4
        try expectGolden(request, version: 4, """
            FFFFFFFF                  // replica id -1 (a consumer)
            000001F4                  // max wait 500 ms
            00000001                  // min bytes 1
            03200000                  // max bytes 52428800
            01                        // isolation level: read committed
            00000001                  // topics: 1
            0006 6F7264657273         //   topic "orders"
            00000001                  //   partitions: 1
            00000002                  //     partition 2
            00000000000004D2          //     fetch offset 1234
            00100000                  //     partition max bytes 1048576
            """)
    }

    @Test("response v4: last stable offset, aborted transactions, records")
    func responseV4() throws {
        let response = FetchResponse(
            throttleTimeMs: 25,
            responses: [.init(topic: "orders", partitions: [
                .init(partitionIndex: 2, errorCode: 0, highWatermark: 1300, lastStableOffset: 1290,
                      abortedTransactions: [.init(producerID: 4001, firstOffset: 1250)], records: Golden.records),
            ])]
        )
        // make_golden.py: FetchResponse v4
        try expectGolden(response, version: 4, """
            00000019                  // throttle time 25 ms
            00000001                  // responses: 1
            0006 6F7264657273         //   topic "orders"
            00000001                  //   partitions: 1
            00000002                  //     partition 2
            0000                      //     error code
            0000000000000514          //     high watermark 1300
            000000000000050A          //     last stable offset 1290
            00000001                  //     aborted transactions: 1
            0000000000000FA1          //       producer id 4001
            00000000000004E2          //       first offset 1250
            0000000C                  //     records: 12 bytes
            00000000000004D2 DEADBEEF
            """)
    }

    @Test("request v17: sessions, topic IDs, forgotten topics, rack, tagged cluster ID, replica state and directory")
    func requestV17() throws {
        let request = FetchRequest(
            clusterID: "cluster-a", replicaState: .init(replicaID: 3, replicaEpoch: 9),
            maxWaitMs: 500, minBytes: 1, maxBytes: 52_428_800, isolationLevel: 1, sessionID: 7, sessionEpoch: 2,
            topics: [.init(topicID: Golden.topicID, partitions: [
                .init(partition: 2, currentLeaderEpoch: 5, fetchOffset: 1234, lastFetchedEpoch: 4, logStartOffset: 100,
                      partitionMaxBytes: 1_048_576, replicaDirectoryID: Golden.directoryID),
            ])],
            forgottenTopicsData: [.init(topicID: Golden.otherTopicID, partitions: [0, 1])],
            rackID: "rack-a"
        )
        // make_golden.py: FetchRequest v17
        try expectGolden(request, version: 17, """
            000001F4                          // max wait 500 ms (no replica id since v15)
            00000001                          // min bytes 1
            03200000                          // max bytes 52428800
            01                                // isolation level: read committed
            00000007                          // session id 7
            00000002                          // session epoch 2
            02                                // topics: compact 1 + 1
            6A1F3C2E9B4D4E8AB7C10D2E3F405162  //   topic id
            02                                //   partitions: compact 1 + 1
            00000002                          //     partition 2
            00000005                          //     current leader epoch 5
            00000000000004D2                  //     fetch offset 1234
            00000004                          //     last fetched epoch 4
            0000000000000064                  //     log start offset 100
            00100000                          //     partition max bytes 1048576
            01                                //     tagged fields: 1
            00 10                             //       tag 0 (replica directory id), 16 bytes
            C0FFEE0012344ABC9DEF00112233AABB
            00                                //   no tagged fields
            02                                // forgotten topics: compact 1 + 1
            0F4B8E217C3A4D598E6FA1B2C3D4E5F6  //   topic id
            03 00000000 00000001              //   partitions [0, 1]
            00                                //   no tagged fields
            07 7261636B2D61                   // rack id "rack-a"
            02                                // tagged fields: 2
            00 0A                             //   tag 0 (cluster id), 10 bytes
            0A 636C75737465722D61             //     compact "cluster-a"
            01 0D                             //   tag 1 (replica state), 13 bytes
            00000003                          //     replica id 3
            0000000000000009                  //     replica epoch 9
            00                                //     no tagged fields
            """)
    }

    @Test("response v17: top-level error and session, log start offset, tagged epochs, snapshot and node endpoints")
    func responseV17() throws {
        let response = FetchResponse(
            throttleTimeMs: 25, errorCode: 0, sessionID: 7,
            responses: [.init(topicID: Golden.topicID, partitions: [
                .init(partitionIndex: 2, errorCode: 0, highWatermark: 1300, lastStableOffset: 1290, logStartOffset: 100,
                      divergingEpoch: .init(epoch: 4, endOffset: 1200),
                      currentLeader: .init(leaderID: 1, leaderEpoch: 5),
                      snapshotID: .init(endOffset: 1000, epoch: 3),
                      abortedTransactions: [.init(producerID: 4001, firstOffset: 1250)],
                      preferredReadReplica: 2, records: Golden.records),
            ])],
            nodeEndpoints: [.init(nodeID: 1, host: "broker-1", port: 9092, rack: "rack-a")]
        )
        // make_golden.py: FetchResponse v17
        try expectGolden(response, version: 17, """
            00000019                          // throttle time 25 ms
            0000                              // error code
            00000007                          // session id 7
            02                                // responses: compact 1 + 1
            6A1F3C2E9B4D4E8AB7C10D2E3F405162  //   topic id
            02                                //   partitions: compact 1 + 1
            00000002                          //     partition 2
            0000                              //     error code
            0000000000000514                  //     high watermark 1300
            000000000000050A                  //     last stable offset 1290
            0000000000000064                  //     log start offset 100
            02                                //     aborted transactions: compact 1 + 1
            0000000000000FA1                  //       producer id 4001
            00000000000004E2                  //       first offset 1250
            00                                //       no tagged fields
            00000002                          //     preferred read replica 2
            0D                                //     records: compact 12 bytes
            00000000000004D2 DEADBEEF
            03                                //     tagged fields: 3
            00 0D                             //       tag 0 (diverging epoch), 13 bytes
            00000004 00000000000004B0 00      //         epoch 4, end offset 1200, no tags
            01 09                             //       tag 1 (current leader), 9 bytes
            00000001 00000005 00              //         leader 1, epoch 5, no tags
            02 0D                             //       tag 2 (snapshot id), 13 bytes
            00000000000003E8 00000003 00      //         end offset 1000, epoch 3, no tags
            00                                //   no tagged fields
            01                                // tagged fields: 1
            00 1A                             //   tag 0 (node endpoints), 26 bytes
            02                                //     compact 1 + 1
            00000001                          //       node 1
            09 62726F6B65722D31               //       host "broker-1"
            00002384                          //       port 9092
            07 7261636B2D61                   //       rack "rack-a"
            00                                //       no tagged fields
            """)
    }
}
