#!/usr/bin/env python3
"""Golden Kafka message bodies for Tests/TributaryKafkaProtocolTests, encoded by kafka-python.

Run with kafka-python 3.0.12 installed:

    python3 Tests/Fixtures/kafka-golden/make_golden.py [Fetch ListOffsets ...]
    python3 Tests/Fixtures/kafka-golden/make_golden.py --check Tests/TributaryKafkaProtocolTests/*Tests.swift

Each case prints the body bytes (no size prefix, no request or response header) of one message
at one version as hex. The values match the Swift tests field by field; the hex is pasted into
the tests with comments. Two independent encoders inside kafka-python are used:

* `kafka.protocol.consumer` / `kafka.protocol.admin` (`ApiMessage`, driven by kafka-python's own
  copy of the upstream JSON message definitions) for every version those definitions still list;
* `kafka.protocol.old` (hand-written `Struct` schemas) for the version-0 layouts that newer
  definitions dropped: ListOffsets, CreateTopics, DeleteTopics, DescribeConfigs, OffsetCommit
  and OffsetFetch version 0.

Every case is decoded again with the same kafka-python class and re-encoded as a self-check.
`--check` reads the hex blocks marked `// make_golden.py: <label>` in the Swift tests (ignoring
`//` comments and spaces) and fails if any differs from kafka-python's bytes.
"""

import string
import sys
import uuid

import kafka
from kafka.protocol.admin import (
    CreatePartitionsRequest, CreatePartitionsResponse,
    CreateTopicsRequest, CreateTopicsResponse,
    DeleteGroupsRequest, DeleteGroupsResponse,
    DeleteTopicsRequest, DeleteTopicsResponse,
    DescribeConfigsRequest, DescribeConfigsResponse,
    DescribeGroupsRequest, DescribeGroupsResponse,
    ListGroupsRequest, ListGroupsResponse,
)
from kafka.protocol.consumer import (
    FetchRequest, FetchResponse,
    HeartbeatRequest, HeartbeatResponse,
    LeaveGroupRequest, LeaveGroupResponse,
    ListOffsetsRequest, ListOffsetsResponse,
    OffsetCommitRequest, OffsetCommitResponse,
    OffsetFetchRequest, OffsetFetchResponse,
    SyncGroupRequest, SyncGroupResponse,
)
from kafka.protocol.producer import (
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse,
    AddPartitionsToTxnRequest, AddPartitionsToTxnResponse,
    EndTxnRequest, EndTxnResponse,
    InitProducerIdRequest, InitProducerIdResponse,
    TxnOffsetCommitRequest, TxnOffsetCommitResponse,
)
from kafka.protocol.sasl import (
    SaslAuthenticateRequest, SaslAuthenticateResponse,
    SaslHandshakeRequest, SaslHandshakeResponse,
)
from kafka.protocol.old import admin as old_admin
from kafka.protocol.old import commit as old_commit
from kafka.protocol.old import list_offsets as old_list_offsets

assert kafka.__version__ == '3.0.12', kafka.__version__

TOPIC_ID = uuid.UUID('6a1f3c2e-9b4d-4e8a-b7c1-0d2e3f405162')
OTHER_TOPIC_ID = uuid.UUID('0f4b8e21-7c3a-4d59-8e6f-a1b2c3d4e5f6')
DIRECTORY_ID = uuid.UUID('c0ffee00-1234-4abc-9def-00112233aabb')

# A consumer-protocol assignment (version 0, "orders" partitions 0 and 1, null user data),
# carried as opaque bytes by SyncGroup and DescribeGroups.
ASSIGNMENT = bytes.fromhex('0000 00000001 0006 6f7264657273 00000002 00000000 00000001 ffffffff')
# A consumer-protocol subscription (version 0, topic "orders", null user data).
SUBSCRIPTION = bytes.fromhex('0000 00000001 0006 6f7264657273 ffffffff')
# Stand-in for a record batch: the records field is opaque at the message layer.
RECORDS = bytes.fromhex('00 00 00 00 00 00 04 d2 de ad be ef')

CASES = {}


def case(message):
    def register(function):
        CASES.setdefault(message, []).append(function)
        return function
    return register


def new_style(cls, version, **fields):
    """Encodes with the JSON-driven ApiMessage class and checks that it decodes back."""
    message = cls(version=version, **fields)
    body = message.encode(version=version)
    decoded = cls.decode(body, version=version)
    decoded._header = None  # decode() leaves the slot unset; encode() reads it
    assert decoded.encode(version=version) == body, (cls.__name__, version)
    return body


def old_style(cls, *fields):
    """Encodes with a hand-written Struct class from kafka.protocol.old."""
    message = cls(*fields)
    body = message.encode()
    assert cls.decode(body).encode() == body, cls.__name__
    return body


# Fetch: 4...17


@case('Fetch')
def fetch_request_v4():
    R = FetchRequest
    return 'FetchRequest v4', new_style(R, 4,
        replica_id=-1, max_wait_ms=500, min_bytes=1, max_bytes=52428800, isolation_level=1,
        topics=[R.FetchTopic(topic='orders', partitions=[
            R.FetchTopic.FetchPartition(partition=2, fetch_offset=1234, partition_max_bytes=1048576)])])


@case('Fetch')
def fetch_response_v4():
    R = FetchResponse
    P = R.FetchableTopicResponse.PartitionData
    return 'FetchResponse v4', new_style(R, 4,
        throttle_time_ms=25,
        responses=[R.FetchableTopicResponse(topic='orders', partitions=[
            P(partition_index=2, error_code=0, high_watermark=1300, last_stable_offset=1290,
              aborted_transactions=[P.AbortedTransaction(producer_id=4001, first_offset=1250)],
              records=RECORDS)])])


@case('Fetch')
def fetch_request_v17():
    R = FetchRequest
    return 'FetchRequest v17', new_style(R, 17,
        cluster_id='cluster-a', replica_state=R.ReplicaState(replica_id=3, replica_epoch=9),
        max_wait_ms=500, min_bytes=1, max_bytes=52428800, isolation_level=1,
        session_id=7, session_epoch=2,
        topics=[R.FetchTopic(topic_id=TOPIC_ID, partitions=[
            R.FetchTopic.FetchPartition(partition=2, current_leader_epoch=5, fetch_offset=1234,
                                        last_fetched_epoch=4, log_start_offset=100,
                                        partition_max_bytes=1048576, replica_directory_id=DIRECTORY_ID)])],
        forgotten_topics_data=[R.ForgottenTopic(topic_id=OTHER_TOPIC_ID, partitions=[0, 1])],
        rack_id='rack-a')


@case('Fetch')
def fetch_response_v17():
    R = FetchResponse
    P = R.FetchableTopicResponse.PartitionData
    return 'FetchResponse v17', new_style(R, 17,
        throttle_time_ms=25, error_code=0, session_id=7,
        responses=[R.FetchableTopicResponse(topic_id=TOPIC_ID, partitions=[
            P(partition_index=2, error_code=0, high_watermark=1300, last_stable_offset=1290,
              log_start_offset=100,
              diverging_epoch=P.EpochEndOffset(epoch=4, end_offset=1200),
              current_leader=P.LeaderIdAndEpoch(leader_id=1, leader_epoch=5),
              snapshot_id=P.SnapshotId(end_offset=1000, epoch=3),
              aborted_transactions=[P.AbortedTransaction(producer_id=4001, first_offset=1250)],
              preferred_read_replica=2, records=RECORDS)])],
        node_endpoints=[R.NodeEndpoint(node_id=1, host='broker-1', port=9092, rack='rack-a')])


# ListOffsets: 0...10


@case('ListOffsets')
def list_offsets_request_v0():
    return 'ListOffsetsRequest v0', old_style(old_list_offsets.ListOffsetsRequest_v0,
        -1, [('orders', [(2, 1700000000000, 3)])])


@case('ListOffsets')
def list_offsets_response_v0():
    return 'ListOffsetsResponse v0', old_style(old_list_offsets.ListOffsetsResponse_v0,
        [('orders', [(2, 0, [1300, 800, 0])])])


@case('ListOffsets')
def list_offsets_request_v10():
    R = ListOffsetsRequest
    return 'ListOffsetsRequest v10', new_style(R, 10,
        replica_id=-1, isolation_level=1,
        topics=[R.ListOffsetsTopic(name='orders', partitions=[
            R.ListOffsetsTopic.ListOffsetsPartition(partition_index=2, current_leader_epoch=5, timestamp=-1)])],
        timeout_ms=30000)


@case('ListOffsets')
def list_offsets_response_v10():
    R = ListOffsetsResponse
    return 'ListOffsetsResponse v10', new_style(R, 10,
        throttle_time_ms=25,
        topics=[R.ListOffsetsTopicResponse(name='orders', partitions=[
            R.ListOffsetsTopicResponse.ListOffsetsPartitionResponse(
                partition_index=2, error_code=0, timestamp=-1, offset=1300, leader_epoch=5)])])


# CreateTopics: 0...7


@case('CreateTopics')
def create_topics_request_v0():
    return 'CreateTopicsRequest v0', old_style(old_admin.CreateTopicsRequest_v0,
        [('orders', -1, -1, [(0, [1, 2]), (1, [2, 3])], [('cleanup.policy', 'compact'), ('retention.ms', None)])],
        30000)


@case('CreateTopics')
def create_topics_response_v0():
    return 'CreateTopicsResponse v0', old_style(old_admin.CreateTopicsResponse_v0,
        [('orders', 36)])


@case('CreateTopics')
def create_topics_request_v7():
    R = CreateTopicsRequest
    T = R.CreatableTopic
    return 'CreateTopicsRequest v7', new_style(R, 7,
        topics=[T(name='orders', num_partitions=-1, replication_factor=-1,
                  assignments=[T.CreatableReplicaAssignment(partition_index=0, broker_ids=[1, 2]),
                               T.CreatableReplicaAssignment(partition_index=1, broker_ids=[2, 3])],
                  configs=[T.CreatableTopicConfig(name='cleanup.policy', value='compact'),
                           T.CreatableTopicConfig(name='retention.ms', value=None)])],
        timeout_ms=30000, validate_only=True)


@case('CreateTopics')
def create_topics_response_v7():
    R = CreateTopicsResponse
    T = R.CreatableTopicResult
    return 'CreateTopicsResponse v7', new_style(R, 7,
        throttle_time_ms=25,
        topics=[T(name='orders', topic_id=TOPIC_ID, error_code=0, error_message=None,
                  num_partitions=2, replication_factor=2,
                  configs=[T.CreatableTopicConfigs(name='cleanup.policy', value='compact', read_only=False,
                                                   config_source=1, is_sensitive=False)]),
                T(name='audit', topic_id=OTHER_TOPIC_ID, error_code=0, error_message=None,
                  topic_config_error_code=29, num_partitions=3, replication_factor=1, configs=None)])


# DeleteTopics: 0...6


@case('DeleteTopics')
def delete_topics_request_v0():
    return 'DeleteTopicsRequest v0', old_style(old_admin.DeleteTopicsRequest_v0,
        ['orders', 'audit'], 30000)


@case('DeleteTopics')
def delete_topics_response_v0():
    return 'DeleteTopicsResponse v0', old_style(old_admin.DeleteTopicsResponse_v0,
        [('orders', 0), ('audit', 3)])


@case('DeleteTopics')
def delete_topics_request_v6():
    R = DeleteTopicsRequest
    return 'DeleteTopicsRequest v6', new_style(R, 6,
        topics=[R.DeleteTopicState(name='orders', topic_id=uuid.UUID(int=0)),
                R.DeleteTopicState(name=None, topic_id=OTHER_TOPIC_ID)],
        timeout_ms=30000)


@case('DeleteTopics')
def delete_topics_response_v6():
    R = DeleteTopicsResponse
    return 'DeleteTopicsResponse v6', new_style(R, 6,
        throttle_time_ms=25,
        responses=[R.DeletableTopicResult(name='orders', topic_id=TOPIC_ID, error_code=0, error_message=None),
                   R.DeletableTopicResult(name=None, topic_id=OTHER_TOPIC_ID, error_code=100,
                                          error_message='Unknown topic ID.')])


# CreatePartitions: 0...3


def create_partitions_request(version, validate_only):
    R = CreatePartitionsRequest
    T = R.CreatePartitionsTopic
    return new_style(R, version,
        topics=[T(name='orders', count=4, assignments=[T.CreatePartitionsAssignment(broker_ids=[1, 2]),
                                                      T.CreatePartitionsAssignment(broker_ids=[2, 3])]),
                T(name='audit', count=6, assignments=None)],
        timeout_ms=30000, validate_only=validate_only)


def create_partitions_response(version):
    R = CreatePartitionsResponse
    return new_style(R, version,
        throttle_time_ms=25,
        results=[R.CreatePartitionsTopicResult(name='orders', error_code=0, error_message=None),
                 R.CreatePartitionsTopicResult(name='audit', error_code=37,
                                               error_message='Topic already has 6 partitions.')])


@case('CreatePartitions')
def create_partitions_request_v0():
    return 'CreatePartitionsRequest v0', create_partitions_request(0, False)


@case('CreatePartitions')
def create_partitions_response_v0():
    return 'CreatePartitionsResponse v0', create_partitions_response(0)


@case('CreatePartitions')
def create_partitions_request_v3():
    return 'CreatePartitionsRequest v3', create_partitions_request(3, True)


@case('CreatePartitions')
def create_partitions_response_v3():
    return 'CreatePartitionsResponse v3', create_partitions_response(3)


# DescribeConfigs: 0...4


@case('DescribeConfigs')
def describe_configs_request_v0():
    return 'DescribeConfigsRequest v0', old_style(old_admin.DescribeConfigsRequest_v0,
        [(2, 'orders', ['cleanup.policy', 'retention.ms']), (4, '1', None)])


@case('DescribeConfigs')
def describe_configs_response_v0():
    return 'DescribeConfigsResponse v0', old_style(old_admin.DescribeConfigsResponse_v0,
        25,
        [(0, None, 2, 'orders', [('cleanup.policy', 'compact', False, False, False),
                                 ('retention.ms', '604800000', False, True, False)]),
         (0, None, 4, '1', [('ssl.key.password', None, False, False, True)])])


@case('DescribeConfigs')
def describe_configs_request_v4():
    R = DescribeConfigsRequest
    return 'DescribeConfigsRequest v4', new_style(R, 4,
        resources=[R.DescribeConfigsResource(resource_type=2, resource_name='orders',
                                             configuration_keys=['cleanup.policy', 'retention.ms']),
                   R.DescribeConfigsResource(resource_type=4, resource_name='1', configuration_keys=None)],
        include_synonyms=True, include_documentation=True)


@case('DescribeConfigs')
def describe_configs_response_v4():
    R = DescribeConfigsResponse
    C = R.DescribeConfigsResult.DescribeConfigsResourceResult
    return 'DescribeConfigsResponse v4', new_style(R, 4,
        throttle_time_ms=25,
        results=[R.DescribeConfigsResult(error_code=0, error_message=None, resource_type=2, resource_name='orders', configs=[
            C(name='cleanup.policy', value='compact', read_only=False, config_source=1, is_sensitive=False,
              synonyms=[C.DescribeConfigsSynonym(name='cleanup.policy', value='compact', source=1),
                        C.DescribeConfigsSynonym(name='log.cleanup.policy', value='delete', source=5)],
              config_type=7, documentation='Retention policy for log segments.')]),
                 R.DescribeConfigsResult(error_code=0, error_message=None, resource_type=4, resource_name='1', configs=[
            C(name='ssl.key.password', value=None, read_only=False, config_source=4, is_sensitive=True,
              synonyms=[], config_type=9, documentation=None)])])


# OffsetCommit: 0...9


@case('OffsetCommit')
def offset_commit_request_v0():
    return 'OffsetCommitRequest v0', old_style(old_commit.OffsetCommitRequest_v0,
        'payments', [('orders', [(0, 1234, 'worker-1'), (1, 98, '')])])


@case('OffsetCommit')
def offset_commit_response_v0():
    return 'OffsetCommitResponse v0', old_style(old_commit.OffsetCommitResponse_v0,
        [('orders', [(0, 0), (1, 25)])])


@case('OffsetCommit')
def offset_commit_request_v9():
    R = OffsetCommitRequest
    T = R.OffsetCommitRequestTopic
    return 'OffsetCommitRequest v9', new_style(R, 9,
        group_id='payments', generation_id_or_member_epoch=7, member_id='consumer-1-5e8f',
        group_instance_id='instance-1',
        topics=[T(name='orders', partitions=[
            T.OffsetCommitRequestPartition(partition_index=0, committed_offset=1234, committed_leader_epoch=5,
                                           committed_metadata='worker-1'),
            T.OffsetCommitRequestPartition(partition_index=1, committed_offset=98, committed_leader_epoch=5,
                                           committed_metadata=None)])])


@case('OffsetCommit')
def offset_commit_response_v9():
    R = OffsetCommitResponse
    T = R.OffsetCommitResponseTopic
    return 'OffsetCommitResponse v9', new_style(R, 9,
        throttle_time_ms=25,
        topics=[T(name='orders', partitions=[
            T.OffsetCommitResponsePartition(partition_index=0, error_code=0),
            T.OffsetCommitResponsePartition(partition_index=1, error_code=22)])])


# OffsetFetch: 0...9


@case('OffsetFetch')
def offset_fetch_request_v0():
    return 'OffsetFetchRequest v0', old_style(old_commit.OffsetFetchRequest_v0,
        'payments', [('orders', [0, 1])])


@case('OffsetFetch')
def offset_fetch_response_v0():
    return 'OffsetFetchResponse v0', old_style(old_commit.OffsetFetchResponse_v0,
        [('orders', [(0, 1234, 'worker-1', 0), (1, -1, '', 0)])])


@case('OffsetFetch')
def offset_fetch_request_v9():
    R = OffsetFetchRequest
    G = R.OffsetFetchRequestGroup
    return 'OffsetFetchRequest v9', new_style(R, 9,
        groups=[G(group_id='payments', member_id='consumer-1-5e8f', member_epoch=7,
                  topics=[G.OffsetFetchRequestTopics(name='orders', partition_indexes=[0, 1])]),
                G(group_id='audit-readers', member_id=None, member_epoch=-1, topics=None)],
        require_stable=True)


@case('OffsetFetch')
def offset_fetch_response_v9():
    R = OffsetFetchResponse
    G = R.OffsetFetchResponseGroup
    T = G.OffsetFetchResponseTopics
    return 'OffsetFetchResponse v9', new_style(R, 9,
        throttle_time_ms=25,
        groups=[G(group_id='payments', topics=[T(name='orders', partitions=[
                    T.OffsetFetchResponsePartitions(partition_index=0, committed_offset=1234, committed_leader_epoch=5,
                                                    metadata='worker-1', error_code=0),
                    T.OffsetFetchResponsePartitions(partition_index=1, committed_offset=-1, committed_leader_epoch=-1,
                                                    metadata=None, error_code=0)])],
                  error_code=0),
                G(group_id='audit-readers', topics=[], error_code=16)])


# InitProducerId: 0...5


@case('InitProducerId')
def init_producer_id_request_v0():
    return 'InitProducerIdRequest v0', new_style(InitProducerIdRequest, 0,
        transactional_id=None, transaction_timeout_ms=60000)


@case('InitProducerId')
def init_producer_id_response_v0():
    return 'InitProducerIdResponse v0', new_style(InitProducerIdResponse, 0,
        throttle_time_ms=0, error_code=0, producer_id=4001, producer_epoch=0)


@case('InitProducerId')
def init_producer_id_request_v5():
    return 'InitProducerIdRequest v5', new_style(InitProducerIdRequest, 5,
        transactional_id='saga-1', transaction_timeout_ms=60000, producer_id=4001, producer_epoch=3)


@case('InitProducerId')
def init_producer_id_response_v5():
    return 'InitProducerIdResponse v5', new_style(InitProducerIdResponse, 5,
        throttle_time_ms=10, error_code=51, producer_id=-1, producer_epoch=-1)


# AddPartitionsToTxn: 0...3 (4+ is the broker-to-broker batched form)


def add_partitions_request(version):
    R = AddPartitionsToTxnRequest
    T = R.AddPartitionsToTxnTopic
    return new_style(R, version,
        v3_and_below_transactional_id='saga-1', v3_and_below_producer_id=4001, v3_and_below_producer_epoch=3,
        v3_and_below_topics=[T(name='orders', partitions=[0, 2]), T(name='audit', partitions=[1])])


def add_partitions_response(version):
    R = AddPartitionsToTxnResponse
    T = R.AddPartitionsToTxnTopicResult
    P = T.AddPartitionsToTxnPartitionResult
    return new_style(R, version,
        throttle_time_ms=0,
        results_by_topic_v3_and_below=[T(name='orders', results_by_partition=[
            P(partition_index=0, partition_error_code=0), P(partition_index=2, partition_error_code=51)])])


@case('AddPartitionsToTxn')
def add_partitions_to_txn_request_v0():
    return 'AddPartitionsToTxnRequest v0', add_partitions_request(0)


@case('AddPartitionsToTxn')
def add_partitions_to_txn_response_v0():
    return 'AddPartitionsToTxnResponse v0', add_partitions_response(0)


@case('AddPartitionsToTxn')
def add_partitions_to_txn_request_v3():
    return 'AddPartitionsToTxnRequest v3', add_partitions_request(3)


@case('AddPartitionsToTxn')
def add_partitions_to_txn_response_v3():
    return 'AddPartitionsToTxnResponse v3', add_partitions_response(3)


# AddOffsetsToTxn: 0...3


@case('AddOffsetsToTxn')
def add_offsets_to_txn_request_v0():
    return 'AddOffsetsToTxnRequest v0', new_style(AddOffsetsToTxnRequest, 0,
        transactional_id='saga-1', producer_id=4001, producer_epoch=3, group_id='payments')


@case('AddOffsetsToTxn')
def add_offsets_to_txn_response_v0():
    return 'AddOffsetsToTxnResponse v0', new_style(AddOffsetsToTxnResponse, 0, throttle_time_ms=0, error_code=0)


@case('AddOffsetsToTxn')
def add_offsets_to_txn_request_v3():
    return 'AddOffsetsToTxnRequest v3', new_style(AddOffsetsToTxnRequest, 3,
        transactional_id='saga-1', producer_id=4001, producer_epoch=3, group_id='payments')


@case('AddOffsetsToTxn')
def add_offsets_to_txn_response_v3():
    return 'AddOffsetsToTxnResponse v3', new_style(AddOffsetsToTxnResponse, 3, throttle_time_ms=5, error_code=90)


# EndTxn: 0...3


@case('EndTxn')
def end_txn_request_v0():
    return 'EndTxnRequest v0', new_style(EndTxnRequest, 0,
        transactional_id='saga-1', producer_id=4001, producer_epoch=3, committed=True)


@case('EndTxn')
def end_txn_response_v0():
    return 'EndTxnResponse v0', new_style(EndTxnResponse, 0, throttle_time_ms=0, error_code=0)


@case('EndTxn')
def end_txn_request_v3():
    return 'EndTxnRequest v3', new_style(EndTxnRequest, 3,
        transactional_id='saga-1', producer_id=4001, producer_epoch=3, committed=False)


@case('EndTxn')
def end_txn_response_v3():
    return 'EndTxnResponse v3', new_style(EndTxnResponse, 3, throttle_time_ms=0, error_code=51)


# TxnOffsetCommit: 0...3


@case('TxnOffsetCommit')
def txn_offset_commit_request_v0():
    R = TxnOffsetCommitRequest
    T = R.TxnOffsetCommitRequestTopic
    return 'TxnOffsetCommitRequest v0', new_style(R, 0,
        transactional_id='saga-1', group_id='payments', producer_id=4001, producer_epoch=3,
        topics=[T(name='orders', partitions=[
            T.TxnOffsetCommitRequestPartition(partition_index=0, committed_offset=1234, committed_metadata=None)])])


@case('TxnOffsetCommit')
def txn_offset_commit_request_v3():
    R = TxnOffsetCommitRequest
    T = R.TxnOffsetCommitRequestTopic
    return 'TxnOffsetCommitRequest v3', new_style(R, 3,
        transactional_id='saga-1', group_id='payments', producer_id=4001, producer_epoch=3,
        generation_id=7, member_id='consumer-1-5e8f', group_instance_id=None,
        topics=[T(name='orders', partitions=[
            T.TxnOffsetCommitRequestPartition(partition_index=0, committed_offset=1234, committed_leader_epoch=5,
                                              committed_metadata='worker-1')])])


def txn_offset_commit_response(version):
    R = TxnOffsetCommitResponse
    T = R.TxnOffsetCommitResponseTopic
    return new_style(R, version,
        throttle_time_ms=0,
        topics=[T(name='orders', partitions=[
            T.TxnOffsetCommitResponsePartition(partition_index=0, error_code=0),
            T.TxnOffsetCommitResponsePartition(partition_index=1, error_code=22)])])


@case('TxnOffsetCommit')
def txn_offset_commit_response_v0():
    return 'TxnOffsetCommitResponse v0', txn_offset_commit_response(0)


@case('TxnOffsetCommit')
def txn_offset_commit_response_v3():
    return 'TxnOffsetCommitResponse v3', txn_offset_commit_response(3)


# Heartbeat: 0...4


@case('Heartbeat')
def heartbeat_request_v0():
    return 'HeartbeatRequest v0', new_style(HeartbeatRequest, 0,
        group_id='payments', generation_id=3, member_id='consumer-1-5e8f')


@case('Heartbeat')
def heartbeat_response_v0():
    return 'HeartbeatResponse v0', new_style(HeartbeatResponse, 0, error_code=27)


@case('Heartbeat')
def heartbeat_request_v4():
    return 'HeartbeatRequest v4', new_style(HeartbeatRequest, 4,
        group_id='payments', generation_id=3, member_id='consumer-1-5e8f', group_instance_id='instance-1')


@case('Heartbeat')
def heartbeat_response_v4():
    return 'HeartbeatResponse v4', new_style(HeartbeatResponse, 4, throttle_time_ms=25, error_code=27)


# LeaveGroup: 0...5


@case('LeaveGroup')
def leave_group_request_v0():
    return 'LeaveGroupRequest v0', new_style(LeaveGroupRequest, 0,
        group_id='payments', member_id='consumer-1-5e8f')


@case('LeaveGroup')
def leave_group_response_v0():
    return 'LeaveGroupResponse v0', new_style(LeaveGroupResponse, 0, error_code=25)


@case('LeaveGroup')
def leave_group_request_v5():
    R = LeaveGroupRequest
    return 'LeaveGroupRequest v5', new_style(R, 5,
        group_id='payments',
        members=[R.MemberIdentity(member_id='consumer-1-5e8f', group_instance_id='instance-1',
                                  reason='the consumer is being closed'),
                 R.MemberIdentity(member_id='consumer-2-77aa', group_instance_id=None, reason=None)])


@case('LeaveGroup')
def leave_group_response_v5():
    R = LeaveGroupResponse
    return 'LeaveGroupResponse v5', new_style(R, 5,
        throttle_time_ms=25, error_code=0,
        members=[R.MemberResponse(member_id='consumer-1-5e8f', group_instance_id='instance-1', error_code=0),
                 R.MemberResponse(member_id='consumer-2-77aa', group_instance_id=None, error_code=25)])


# SyncGroup: 0...5


@case('SyncGroup')
def sync_group_request_v0():
    R = SyncGroupRequest
    return 'SyncGroupRequest v0', new_style(R, 0,
        group_id='payments', generation_id=3, member_id='consumer-1-5e8f',
        assignments=[R.SyncGroupRequestAssignment(member_id='consumer-1-5e8f', assignment=ASSIGNMENT),
                     R.SyncGroupRequestAssignment(member_id='consumer-2-77aa', assignment=b'')])


@case('SyncGroup')
def sync_group_response_v0():
    return 'SyncGroupResponse v0', new_style(SyncGroupResponse, 0, error_code=0, assignment=ASSIGNMENT)


@case('SyncGroup')
def sync_group_request_v5():
    R = SyncGroupRequest
    return 'SyncGroupRequest v5', new_style(R, 5,
        group_id='payments', generation_id=3, member_id='consumer-1-5e8f', group_instance_id='instance-1',
        protocol_type='consumer', protocol_name='range',
        assignments=[R.SyncGroupRequestAssignment(member_id='consumer-1-5e8f', assignment=ASSIGNMENT),
                     R.SyncGroupRequestAssignment(member_id='consumer-2-77aa', assignment=b'')])


@case('SyncGroup')
def sync_group_response_v5():
    return 'SyncGroupResponse v5', new_style(SyncGroupResponse, 5,
        throttle_time_ms=25, error_code=0, protocol_type='consumer', protocol_name='range', assignment=ASSIGNMENT)


# DescribeGroups: 0...5


@case('DescribeGroups')
def describe_groups_request_v0():
    return 'DescribeGroupsRequest v0', new_style(DescribeGroupsRequest, 0, groups=['payments', 'audit-readers'])


@case('DescribeGroups')
def describe_groups_response_v0():
    R = DescribeGroupsResponse
    G = R.DescribedGroup
    return 'DescribeGroupsResponse v0', new_style(R, 0,
        groups=[G(error_code=0, group_id='payments', group_state='Stable', protocol_type='consumer',
                  protocol_data='range',
                  members=[G.DescribedGroupMember(member_id='consumer-1-5e8f', client_id='consumer-1',
                                                  client_host='/10.0.0.7', member_metadata=SUBSCRIPTION,
                                                  member_assignment=ASSIGNMENT)]),
                G(error_code=0, group_id='audit-readers', group_state='Dead', protocol_type='',
                  protocol_data='', members=[])])


@case('DescribeGroups')
def describe_groups_request_v5():
    return 'DescribeGroupsRequest v5', new_style(DescribeGroupsRequest, 5,
        groups=['payments', 'audit-readers'], include_authorized_operations=True)


@case('DescribeGroups')
def describe_groups_response_v5():
    R = DescribeGroupsResponse
    G = R.DescribedGroup
    return 'DescribeGroupsResponse v5', new_style(R, 5,
        throttle_time_ms=25,
        groups=[G(error_code=0, group_id='payments', group_state='Stable', protocol_type='consumer',
                  protocol_data='range',
                  members=[G.DescribedGroupMember(member_id='consumer-1-5e8f', group_instance_id='instance-1',
                                                  client_id='consumer-1', client_host='/10.0.0.7',
                                                  member_metadata=SUBSCRIPTION, member_assignment=ASSIGNMENT)],
                  # READ (3), DELETE (6), DESCRIBE (8)
                  authorized_operations={3, 6, 8}),
                G(error_code=0, group_id='audit-readers', group_state='Dead', protocol_type='',
                  protocol_data='', members=[], authorized_operations={3, 6, 8})])


# ListGroups: 0...5


@case('ListGroups')
def list_groups_request_v0():
    return 'ListGroupsRequest v0', new_style(ListGroupsRequest, 0)


@case('ListGroups')
def list_groups_response_v0():
    R = ListGroupsResponse
    return 'ListGroupsResponse v0', new_style(R, 0,
        error_code=0,
        groups=[R.ListedGroup(group_id='payments', protocol_type='consumer'),
                R.ListedGroup(group_id='connect-cluster', protocol_type='connect')])


@case('ListGroups')
def list_groups_request_v5():
    return 'ListGroupsRequest v5', new_style(ListGroupsRequest, 5,
        states_filter=['Stable', 'Empty'], types_filter=['classic'])


@case('ListGroups')
def list_groups_response_v5():
    R = ListGroupsResponse
    return 'ListGroupsResponse v5', new_style(R, 5,
        throttle_time_ms=25, error_code=0,
        groups=[R.ListedGroup(group_id='payments', protocol_type='consumer', group_state='Stable',
                              group_type='classic'),
                R.ListedGroup(group_id='connect-cluster', protocol_type='connect', group_state='Empty',
                              group_type='classic')])


# DeleteGroups: 0...2


def delete_groups_response(version):
    R = DeleteGroupsResponse
    return new_style(R, version,
        throttle_time_ms=25,
        results=[R.DeletableGroupResult(group_id='payments', error_code=0),
                 R.DeletableGroupResult(group_id='audit-readers', error_code=69)])


@case('DeleteGroups')
def delete_groups_request_v0():
    return 'DeleteGroupsRequest v0', new_style(DeleteGroupsRequest, 0, groups_names=['payments', 'audit-readers'])


@case('DeleteGroups')
def delete_groups_response_v0():
    return 'DeleteGroupsResponse v0', delete_groups_response(0)


@case('DeleteGroups')
def delete_groups_request_v2():
    return 'DeleteGroupsRequest v2', new_style(DeleteGroupsRequest, 2, groups_names=['payments', 'audit-readers'])


@case('DeleteGroups')
def delete_groups_response_v2():
    return 'DeleteGroupsResponse v2', delete_groups_response(2)


# SaslHandshake: 1 (version 0 sends tokens outside Kafka's framing; Tributary does not speak it)


@case('SaslHandshake')
def sasl_handshake_request_v1():
    return 'SaslHandshakeRequest v1', new_style(SaslHandshakeRequest, 1, mechanism='SCRAM-SHA-256')


@case('SaslHandshake')
def sasl_handshake_response_v1():
    return 'SaslHandshakeResponse v1', new_style(SaslHandshakeResponse, 1,
        error_code=33, mechanisms=['PLAIN', 'SCRAM-SHA-512'])


# SaslAuthenticate: 0...2


@case('SaslAuthenticate')
def sasl_authenticate_request_v0():
    return 'SaslAuthenticateRequest v0', new_style(SaslAuthenticateRequest, 0, auth_bytes=b'\x00alice\x00pw')


@case('SaslAuthenticate')
def sasl_authenticate_response_v0():
    return 'SaslAuthenticateResponse v0', new_style(SaslAuthenticateResponse, 0,
        error_code=58, error_message='bad credentials', auth_bytes=b'')


@case('SaslAuthenticate')
def sasl_authenticate_request_v2():
    return 'SaslAuthenticateRequest v2', new_style(SaslAuthenticateRequest, 2, auth_bytes=b'n,,n=alice,r=abc')


@case('SaslAuthenticate')
def sasl_authenticate_response_v1():
    return 'SaslAuthenticateResponse v1', new_style(SaslAuthenticateResponse, 1,
        error_code=0, error_message=None, auth_bytes=b'v=xyz', session_lifetime_ms=3600000)


@case('SaslAuthenticate')
def sasl_authenticate_response_v2():
    return 'SaslAuthenticateResponse v2', new_style(SaslAuthenticateResponse, 2,
        error_code=0, error_message=None, auth_bytes=b'v=xyz', session_lifetime_ms=3600000)


def swift_blocks(path):
    """The golden hex blocks of a Swift test file, by the `// make_golden.py: <label>` line above each."""
    lines = open(path, encoding='utf-8').read().split('\n')
    blocks = {}
    index = 0
    while index < len(lines):
        marker = lines[index].strip()
        index += 1
        if not marker.startswith('// make_golden.py: '):
            continue
        label = marker[len('// make_golden.py: '):]
        while '"""' not in lines[index]:
            index += 1
        index += 1
        digits = ''
        while lines[index].strip() != '""")':
            code = lines[index].split('//')[0]
            digits += ''.join(c for c in code if c in string.hexdigits)
            index += 1
        blocks[label] = bytes.fromhex(digits)
    return blocks


def check(paths):
    """Compares the golden blocks in Swift test files with what kafka-python encodes now."""
    expected = {}
    for functions in CASES.values():
        for function in functions:
            label, body = function()
            expected[label] = body
    failures = 0
    seen = set()
    for path in paths:
        for label, body in swift_blocks(path).items():
            seen.add(label)
            if expected.get(label) != body:
                failures += 1
                print('MISMATCH %s in %s\n  swift       %s\n  kafka-python %s'
                      % (label, path, body.hex(' '), expected.get(label, b'').hex(' ')))
    print('%d blocks checked, %d mismatched, %d cases not found in the files'
          % (len(seen), failures, len(set(expected) - seen)))
    return failures == 0


def main(arguments):
    if arguments[:1] == ['--check']:
        sys.exit(0 if check(arguments[1:]) else 1)
    for name in arguments or CASES:
        for function in CASES[name]:
            label, body = function()
            print('%s (%d bytes)' % (label, len(body)))
            print('  ' + body.hex(' '))


if __name__ == '__main__':
    main(sys.argv[1:])
