import { KafkaProtocolError } from '../errors.js';
/**
 * Kafka protocol error codes: every code a broker can put in an `error_code` field, with its name,
 * whether Kafka's Java client treats it as retriable, and a one-line description.
 *
 * Source: Apache Kafka's `clients/src/main/java/org/apache/kafka/common/protocol/Errors.java` (trunk,
 * the 4.4 line, which runs from -1 to 136 with no gaps; 4.1 to 4.3 end at 133, 4.0 at 129).
 * `retriable` is true exactly when the Java exception class for the code extends `RetriableException`
 * (directly, or via `RefreshRetriableException` / `InvalidMetadataException`); this is the "Retriable"
 * column of the error table at https://kafka.apache.org/protocol#protocol_error_codes. Descriptions are
 * our own wording.
 *
 * Retriable here means "sending the same request again may succeed". It is not a delivery policy: an
 * idempotent producer still has to handle sequence errors (45, 46, 59) and fencing (47, 90) itself.
 */

export interface KafkaErrorInfo {
  readonly code: number;
  readonly name: string;
  readonly retriable: boolean;
  readonly description: string;
}

/** One table row. Generic so that `ErrorCode` below keeps each name's literal code in its type. */
function e<const C extends number, const N extends string>(
  code: C,
  name: N,
  retriable: boolean,
  description: string,
): { readonly code: C; readonly name: N; readonly retriable: boolean; readonly description: string } {
  return Object.freeze({ code, name, retriable, description });
}

// prettier-ignore
const TABLE = [
  e(-1, 'UNKNOWN_SERVER_ERROR', false, 'The broker hit an unexpected internal error while handling the request.'),
  e(0, 'NONE', false, 'No error; the request succeeded.'),
  e(1, 'OFFSET_OUT_OF_RANGE', false, 'The requested offset lies outside the range of offsets the broker holds for the partition.'),
  e(2, 'CORRUPT_MESSAGE', true, 'A record failed its CRC check, was oversized, had a null key on a compacted topic, or was otherwise malformed.'),
  e(3, 'UNKNOWN_TOPIC_OR_PARTITION', true, 'The broker does not host this topic-partition; refresh metadata and retry.'),
  e(4, 'INVALID_FETCH_SIZE', false, 'The fetch size in the request is not valid.'),
  e(5, 'LEADER_NOT_AVAILABLE', true, 'The partition has no leader at the moment, usually because a leader election is under way.'),
  e(6, 'NOT_LEADER_OR_FOLLOWER', true, 'The broker is not the leader (or not a replica) of this partition; refresh metadata and retry.'),
  e(7, 'REQUEST_TIMED_OUT', true, 'The broker did not complete the request within its timeout.'),
  e(8, 'BROKER_NOT_AVAILABLE', false, 'The target broker is not available.'),
  e(9, 'REPLICA_NOT_AVAILABLE', true, 'A replica of the requested partition is not available on the broker.'),
  e(10, 'MESSAGE_TOO_LARGE', false, 'A record or batch is larger than the maximum message size the broker accepts.'),
  e(11, 'STALE_CONTROLLER_EPOCH', false, 'The request carried an outdated controller epoch; the controller has moved.'),
  e(12, 'OFFSET_METADATA_TOO_LARGE', false, 'The metadata string attached to an offset commit is too long.'),
  e(13, 'NETWORK_EXCEPTION', true, 'The connection was closed before the broker sent a response.'),
  e(14, 'COORDINATOR_LOAD_IN_PROGRESS', true, 'The coordinator is still loading its state and cannot serve requests yet.'),
  e(15, 'COORDINATOR_NOT_AVAILABLE', true, 'The group or transaction coordinator is not available.'),
  e(16, 'NOT_COORDINATOR', true, 'The broker is not the coordinator for this group or transactional id; look the coordinator up again.'),
  e(17, 'INVALID_TOPIC_EXCEPTION', false, 'The request named a topic that is not valid for the operation, such as an illegal name.'),
  e(18, 'RECORD_LIST_TOO_LARGE', false, 'The record batch is larger than the log segment size configured on the broker.'),
  e(19, 'NOT_ENOUGH_REPLICAS', true, 'The write was rejected because fewer replicas are in sync than min.insync.replicas requires.'),
  e(20, 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', true, 'The records were appended, but fewer replicas were in sync than required.'),
  e(21, 'INVALID_REQUIRED_ACKS', false, 'The produce request used an acks value the broker does not accept.'),
  e(22, 'ILLEGAL_GENERATION', false, 'The group generation id in the request is not the current one.'),
  e(23, 'INCONSISTENT_GROUP_PROTOCOL', false, "The member's protocol type or protocol list is empty or incompatible with the group's members."),
  e(24, 'INVALID_GROUP_ID', false, 'The group id is not valid.'),
  e(25, 'UNKNOWN_MEMBER_ID', false, 'The coordinator does not recognise this group member id.'),
  e(26, 'INVALID_SESSION_TIMEOUT', false, 'The session timeout is outside the range set by group.min/max.session.timeout.ms on the broker.'),
  e(27, 'REBALANCE_IN_PROGRESS', false, 'The group is rebalancing, so the member has to rejoin.'),
  e(28, 'INVALID_COMMIT_OFFSET_SIZE', false, 'The size of the offset commit data is not valid.'),
  e(29, 'TOPIC_AUTHORIZATION_FAILED', false, 'The client is not authorised to access the topic.'),
  e(30, 'GROUP_AUTHORIZATION_FAILED', false, 'The client is not authorised to access the group.'),
  e(31, 'CLUSTER_AUTHORIZATION_FAILED', false, 'The client is not authorised for this cluster-level operation.'),
  e(32, 'INVALID_TIMESTAMP', false, 'A record timestamp is outside the range the broker accepts.'),
  e(33, 'UNSUPPORTED_SASL_MECHANISM', false, 'The broker does not offer the SASL mechanism the client asked for.'),
  e(34, 'ILLEGAL_SASL_STATE', false, 'The request is not allowed at the current stage of the SASL exchange.'),
  e(35, 'UNSUPPORTED_VERSION', false, 'The broker does not support this version of the API.'),
  e(36, 'TOPIC_ALREADY_EXISTS', false, 'A topic with this name already exists.'),
  e(37, 'INVALID_PARTITIONS', false, 'The partition count is not valid, for example less than 1.'),
  e(38, 'INVALID_REPLICATION_FACTOR', false, 'The replication factor is not valid: below 1 or above the number of available brokers.'),
  e(39, 'INVALID_REPLICA_ASSIGNMENT', false, 'The replica assignment is not valid.'),
  e(40, 'INVALID_CONFIG', false, 'The configuration is not valid.'),
  e(41, 'NOT_CONTROLLER', true, 'The request reached a node that is not the active controller.'),
  e(42, 'INVALID_REQUEST', false, 'The broker found the request malformed or incompatible; its logs have the details.'),
  e(43, 'UNSUPPORTED_FOR_MESSAGE_FORMAT', false, "The broker's message format version cannot serve this request."),
  e(44, 'POLICY_VIOLATION', false, 'The request parameters break a policy configured on the broker.'),
  e(45, 'OUT_OF_ORDER_SEQUENCE_NUMBER', false, 'The broker received a producer sequence number out of order.'),
  e(46, 'DUPLICATE_SEQUENCE_NUMBER', false, 'The broker received a producer sequence number it has already written.'),
  e(47, 'INVALID_PRODUCER_EPOCH', false, 'The producer sent an epoch older than the current one for its producer id.'),
  e(48, 'INVALID_TXN_STATE', false, "The transactional operation is not allowed in the transaction's current state."),
  e(49, 'INVALID_PRODUCER_ID_MAPPING', false, 'The producer id is not the one currently assigned to this transactional id.'),
  e(50, 'INVALID_TRANSACTION_TIMEOUT', false, 'The transaction timeout is above the broker maximum (transaction.max.timeout.ms).'),
  e(51, 'CONCURRENT_TRANSACTIONS', true, 'Another operation on the same transaction is still in progress.'),
  e(52, 'TRANSACTION_COORDINATOR_FENCED', false, 'The coordinator that sent WriteTxnMarkers is no longer the coordinator for this producer.'),
  e(53, 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED', false, 'The client is not authorised to use the transactional id.'),
  e(54, 'SECURITY_DISABLED', false, 'Security features are disabled on the broker.'),
  e(55, 'OPERATION_NOT_ATTEMPTED', false, 'The broker skipped this operation, typically because another operation in the same batch failed.'),
  e(56, 'KAFKA_STORAGE_ERROR', true, 'The broker hit a disk error while accessing the log.'),
  e(57, 'LOG_DIR_NOT_FOUND', false, 'The requested log directory is not part of the broker configuration.'),
  e(58, 'SASL_AUTHENTICATION_FAILED', false, 'SASL authentication failed.'),
  e(59, 'UNKNOWN_PRODUCER_ID', false, 'The broker holds no state for this producer id, for example after retention removed its records.'),
  e(60, 'REASSIGNMENT_IN_PROGRESS', false, 'A partition reassignment is already in progress.'),
  e(61, 'DELEGATION_TOKEN_AUTH_DISABLED', false, 'Delegation tokens are not enabled on the cluster.'),
  e(62, 'DELEGATION_TOKEN_NOT_FOUND', false, 'The server has no such delegation token.'),
  e(63, 'DELEGATION_TOKEN_OWNER_MISMATCH', false, 'The principal is not a valid owner or renewer of the delegation token.'),
  e(64, 'DELEGATION_TOKEN_REQUEST_NOT_ALLOWED', false, 'Delegation token requests are refused on plaintext, one-way SSL and token-authenticated connections.'),
  e(65, 'DELEGATION_TOKEN_AUTHORIZATION_FAILED', false, 'The client is not authorised for this delegation token operation.'),
  e(66, 'DELEGATION_TOKEN_EXPIRED', false, 'The delegation token has expired.'),
  e(67, 'INVALID_PRINCIPAL_TYPE', false, 'The principal type is not supported.'),
  e(68, 'NON_EMPTY_GROUP', false, 'The group still has members.'),
  e(69, 'GROUP_ID_NOT_FOUND', false, 'No group with this id exists.'),
  e(70, 'FETCH_SESSION_ID_NOT_FOUND', true, 'The broker does not know the fetch session id.'),
  e(71, 'INVALID_FETCH_SESSION_EPOCH', true, 'The fetch session epoch does not match what the broker expects.'),
  e(72, 'LISTENER_NOT_FOUND', true, 'The leader has no endpoint for the listener the metadata request arrived on.'),
  e(73, 'TOPIC_DELETION_DISABLED', false, 'Topic deletion is disabled on the cluster.'),
  e(74, 'FENCED_LEADER_EPOCH', true, "The request's leader epoch is older than the broker's; refresh metadata and retry."),
  e(75, 'UNKNOWN_LEADER_EPOCH', true, "The request's leader epoch is newer than the broker has seen yet."),
  e(76, 'UNSUPPORTED_COMPRESSION_TYPE', false, "The client cannot handle the partition's compression type."),
  e(77, 'STALE_BROKER_EPOCH', false, 'The broker epoch in the request is out of date.'),
  e(78, 'OFFSET_NOT_AVAILABLE', true, "The new leader's high watermark has not caught up after an election, so offsets are not served yet."),
  e(79, 'MEMBER_ID_REQUIRED', false, 'The member has to obtain a member id before it can join the group.'),
  e(80, 'PREFERRED_LEADER_NOT_AVAILABLE', true, 'The preferred leader of the partition is not available.'),
  e(81, 'GROUP_MAX_SIZE_REACHED', false, 'The group already has its maximum number of members.'),
  e(82, 'FENCED_INSTANCE_ID', false, 'This static member was fenced by another member using the same group.instance.id.'),
  e(83, 'ELIGIBLE_LEADERS_NOT_AVAILABLE', true, 'No eligible leader is available for the partition.'),
  e(84, 'ELECTION_NOT_NEEDED', true, 'The partition does not need a leader election.'),
  e(85, 'NO_REASSIGNMENT_IN_PROGRESS', false, 'There is no partition reassignment in progress.'),
  e(86, 'GROUP_SUBSCRIBED_TO_TOPIC', false, 'Offsets of a topic cannot be deleted while the group is subscribed to it.'),
  e(87, 'INVALID_RECORD', false, 'The broker rejected a record that failed its validation.'),
  e(88, 'UNSTABLE_OFFSET_COMMIT', true, 'Pending transactional offset commits must be resolved before offsets can be read.'),
  e(89, 'THROTTLING_QUOTA_EXCEEDED', true, 'The request went over a throttling quota.'),
  e(90, 'PRODUCER_FENCED', false, 'A newer producer with the same transactional id has fenced this one.'),
  e(91, 'RESOURCE_NOT_FOUND', false, 'The request refers to a resource that does not exist.'),
  e(92, 'DUPLICATE_RESOURCE', false, 'The request refers to the same resource more than once.'),
  e(93, 'UNACCEPTABLE_CREDENTIAL', false, 'The requested credential does not meet the acceptance criteria.'),
  e(94, 'INCONSISTENT_VOTER_SET', false, 'The sender or receiver of a voter-only request is not among the expected voters.'),
  e(95, 'INVALID_UPDATE_VERSION', false, 'The update version is not valid.'),
  e(96, 'FEATURE_UPDATE_FAILED', false, 'An unexpected server error prevented the finalized features from being updated.'),
  e(97, 'PRINCIPAL_DESERIALIZATION_FAILURE', false, 'A forwarded request principal could not be deserialized, pointing to a cluster security setup problem.'),
  e(98, 'SNAPSHOT_NOT_FOUND', false, 'The requested snapshot does not exist.'),
  e(99, 'POSITION_OUT_OF_RANGE', false, 'The requested snapshot position is negative or beyond the end of the snapshot.'),
  e(100, 'UNKNOWN_TOPIC_ID', true, 'The broker does not host a topic with this topic id.'),
  e(101, 'DUPLICATE_BROKER_REGISTRATION', false, 'This broker id is already registered.'),
  e(102, 'BROKER_ID_NOT_REGISTERED', false, 'The broker id is not registered.'),
  e(103, 'INCONSISTENT_TOPIC_ID', true, "The topic id in the request does not match the log's topic id."),
  e(104, 'INCONSISTENT_CLUSTER_ID', false, "The cluster id in the request does not match the server's."),
  e(105, 'TRANSACTIONAL_ID_NOT_FOUND', false, 'The transactional id does not exist.'),
  e(106, 'FETCH_SESSION_TOPIC_ID_ERROR', true, 'The fetch session used topic ids inconsistently.'),
  e(107, 'INELIGIBLE_REPLICA', false, 'The proposed ISR contains at least one replica that is not eligible.'),
  e(108, 'NEW_LEADER_ELECTED', false, 'The AlterPartition change was applied, but the partition now has a different leader.'),
  e(109, 'OFFSET_MOVED_TO_TIERED_STORAGE', false, 'The requested offset is now only available from tiered storage.'),
  e(110, 'FENCED_MEMBER_EPOCH', false, 'The coordinator fenced the member epoch; the member must give up its partitions and rejoin.'),
  e(111, 'UNRELEASED_INSTANCE_ID', false, 'Another member still holds this instance id and has to leave first.'),
  e(112, 'UNSUPPORTED_ASSIGNOR', false, 'The group does not support the requested assignor or assignor version.'),
  e(113, 'STALE_MEMBER_EPOCH', false, 'The member epoch is out of date; retry once a heartbeat has returned the current epoch.'),
  e(114, 'MISMATCHED_ENDPOINT_TYPE', false, 'The request was sent to the wrong kind of endpoint.'),
  e(115, 'UNSUPPORTED_ENDPOINT_TYPE', false, 'This kind of endpoint is not supported yet.'),
  e(116, 'UNKNOWN_CONTROLLER_ID', false, 'The controller id is not known.'),
  e(117, 'UNKNOWN_SUBSCRIPTION_ID', false, 'The telemetry push used an unknown or outdated subscription id.'),
  e(118, 'TELEMETRY_TOO_LARGE', false, 'The telemetry push is larger than the broker accepts.'),
  e(119, 'INVALID_REGISTRATION', false, 'The controller considers the broker registration invalid.'),
  e(120, 'TRANSACTION_ABORTABLE', false, 'The transaction hit an error; aborting it lets the transactional id be used again.'),
  e(121, 'INVALID_RECORD_STATE', false, 'The record is in the wrong state, so its delivery acknowledgement could not be completed.'),
  e(122, 'SHARE_SESSION_NOT_FOUND', true, 'The share session does not exist.'),
  e(123, 'INVALID_SHARE_SESSION_EPOCH', true, 'The share session epoch is not valid.'),
  e(124, 'FENCED_STATE_EPOCH', false, 'The share coordinator rejected the request because the share-group state epoch differs.'),
  e(125, 'INVALID_VOTER_KEY', false, "The voter key does not match the receiving replica's key."),
  e(126, 'DUPLICATE_VOTER', false, 'The voter is already in the voter set.'),
  e(127, 'VOTER_NOT_FOUND', false, 'The voter is not in the voter set.'),
  e(128, 'INVALID_REGULAR_EXPRESSION', false, 'The regular expression is not valid.'),
  e(129, 'REBOOTSTRAP_REQUIRED', false, "The client's metadata is stale and it has to rebootstrap."),
  e(130, 'STREAMS_INVALID_TOPOLOGY', false, 'The Streams topology in the request is not valid.'),
  e(131, 'STREAMS_INVALID_TOPOLOGY_EPOCH', false, 'The Streams topology epoch in the request is not valid.'),
  e(132, 'STREAMS_TOPOLOGY_FENCED', false, 'The Streams topology epoch in the request is out of date.'),
  e(133, 'SHARE_SESSION_LIMIT_REACHED', true, 'The broker already has its maximum number of share sessions.'),
  e(134, 'GROUP_DELETION_FAILED', false, 'DeleteGroups could not delete the group; the error message gives the reason.'),
  e(135, 'STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED', false, "The broker's Streams topology description plugin could not apply the update."),
  e(136, 'CONTROLLER_ID_NOT_REGISTERED', false, 'The controller id is not registered.'),
] as const;

type Row = (typeof TABLE)[number];

/** Every Kafka error name, e.g. `'NOT_LEADER_OR_FOLLOWER'`. */
export type KafkaErrorName = Row['name'];

/** Every known table entry, ordered by code (-1 first). Frozen. */
export const KAFKA_ERRORS: readonly KafkaErrorInfo[] = Object.freeze(TABLE);

/** Error name to code, for every entry: `ErrorCode.NOT_LEADER_OR_FOLLOWER` is `6` (and typed as `6`). */
export const ErrorCode = Object.freeze(Object.fromEntries(TABLE.map((row) => [row.name, row.code]))) as {
  readonly [R in Row as R['name']]: R['code'];
};

/** A code that is in the table. */
export type KnownErrorCode = Row['code'];

const MIN_CODE = TABLE[0].code;

/** Entries indexed by `code - MIN_CODE`: one array read per lookup. */
const BY_CODE: readonly (KafkaErrorInfo | undefined)[] = (() => {
  const byCode: (KafkaErrorInfo | undefined)[] = [];
  for (const row of TABLE) {
    if (byCode[row.code - MIN_CODE] !== undefined) {
      throw new Error(`Kafka error code ${row.code} appears twice in the error table`);
    }
    byCode[row.code - MIN_CODE] = row;
  }
  return byCode;
})();

/**
 * The table entry for `code`. A code missing from the table (a newer broker, or garbage) gets a
 * synthetic, non-retriable entry named `UNKNOWN_ERROR_CODE_<code>`, like Kafka's own client, which
 * maps unknown codes to the non-retriable UNKNOWN_SERVER_ERROR.
 */
export function kafkaError(code: number): KafkaErrorInfo {
  return (
    BY_CODE[code - MIN_CODE] ??
    Object.freeze({
      code,
      name: `UNKNOWN_ERROR_CODE_${code}`,
      retriable: false,
      description: `Error code ${code} is not in ekaf's Kafka error table; it may come from a newer broker.`,
    })
  );
}

/** Whether Kafka classes `code` as retriable. False for NONE and for unknown codes. */
export function isRetriable(code: number): boolean {
  return BY_CODE[code - MIN_CODE]?.retriable ?? false;
}

/** The typed error for a broker's answer: its code's name and retriability, the broker's message or the code's description. */
export function protocolError(errorCode: number, message?: string | null): KafkaProtocolError {
  const info = kafkaError(errorCode);
  return new KafkaProtocolError(info.code, info.name, message ?? info.description, info.retriable);
}
