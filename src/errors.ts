/**
 * ekaf's error classes. Every error ekaf raises is an `EkafError` with a stable string `code`
 * that callers can switch on; the message is for humans and may change.
 */

export type EkafErrorCode =
  | 'ERR_DECODE'
  | 'ERR_ENCODE'
  | 'ERR_UNSUPPORTED_VERSION'
  | 'ERR_CONNECTION'
  | 'ERR_CONNECTION_CLOSED'
  | 'ERR_TLS'
  | 'ERR_SASL_AUTHENTICATION'
  | 'ERR_REQUEST_TIMEOUT'
  | 'ERR_RESPONSE_TOO_LARGE'
  | 'ERR_TOO_MANY_IN_FLIGHT'
  | 'ERR_KAFKA'
  | 'ERR_CONFIG'
  | 'ERR_INVALID_RECORD'
  | 'ERR_RECORD_TOO_LARGE'
  | 'ERR_BUFFER_FULL'
  | 'ERR_DELIVERY_TIMEOUT'
  | 'ERR_PRODUCER_CLOSED'
  | 'ERR_ABORTED'
  | 'ERR_SPOOL'
  | 'ERR_SPOOL_LOCKED'
  | 'ERR_PRODUCER_FENCED'
  | 'ERR_TRANSACTION_ABORTABLE'
  | 'ERR_TRANSACTION_ABORTED'
  | 'ERR_INVALID_TXN_STATE'
  | 'ERR_TRANSACTION_TIMEOUT'
  | 'ERR_TRANSACTION_FATAL';

export class EkafError extends Error {
  readonly code: EkafErrorCode;
  /** Whether retrying the same operation later may succeed. */
  readonly retriable: boolean;

  constructor(code: EkafErrorCode, message: string, options?: { cause?: unknown; retriable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options?.retriable ?? false;
  }
}

/** A frame could not be decoded: it is truncated, malformed, or its version is not the one expected. */
export class DecodeError extends EkafError {
  /** Byte offset within the frame where decoding failed. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super('ERR_DECODE', `${message} (at byte ${offset})`);
    this.offset = offset;
  }
}

/**
 * A value could not be encoded (e.g. a string longer than the protocol's int16 length allows, a
 * number out of its int32 field's range). Not retriable: the same request would fail again.
 */
export class EncodeError extends EkafError {
  constructor(message: string, cause?: unknown) {
    super('ERR_ENCODE', message, cause === undefined ? undefined : { cause });
  }
}

/** Our supported version range for an API and the broker's do not overlap, or the broker lacks the API. */
export class UnsupportedVersionError extends EkafError {
  constructor(
    readonly apiName: string,
    readonly ours: { min: number; max: number },
    readonly broker: { min: number; max: number } | undefined,
  ) {
    super(
      'ERR_UNSUPPORTED_VERSION',
      broker === undefined
        ? `${apiName}: the broker does not support this API (ekaf needs v${ours.min}-v${ours.max})`
        : `${apiName}: no common version (ekaf supports v${ours.min}-v${ours.max}, ` +
            `the broker v${broker.min}-v${broker.max})`,
    );
  }
}

/** The socket failed or closed; requests that were pending on it are rejected with this. */
export class ConnectionError extends EkafError {
  constructor(
    message: string,
    readonly broker: string,
    options?: { cause?: unknown; code?: 'ERR_CONNECTION' | 'ERR_CONNECTION_CLOSED' },
  ) {
    super(options?.code ?? 'ERR_CONNECTION', `${broker}: ${message}`, {
      cause: options?.cause,
      retriable: true,
    });
  }
}

/**
 * The peer at a broker address is not a Kafka broker: it answered the first request with HTTP
 * (a web server, a proxy's HTTP port, kafboy itself). Found from the answer's first four bytes,
 * which a Kafka client reads as a frame size: "HTTP" is 1 213 486 160, far above any limit.
 * Retried like any connection failure (the address may yet be given to a broker); `ekaf
 * produce` gives up at once when every bootstrap address answered so and none was ever Kafka.
 */
export class NotKafkaError extends ConnectionError {
  constructor(
    broker: string,
    /** What the peer spoke instead. */
    readonly protocol: 'HTTP',
  ) {
    super(
      `the peer answered with ${protocol}: it is not a Kafka broker (do the brokers point at kafboy or a web server?)`,
      broker,
    );
  }
}

/** No response arrived within the request timeout. The connection is closed, as its state is unknown. */
export class RequestTimeoutError extends EkafError {
  constructor(
    readonly broker: string,
    readonly apiName: string,
    readonly timeoutMs: number,
  ) {
    super('ERR_REQUEST_TIMEOUT', `${broker}: ${apiName} request timed out after ${timeoutMs} ms`, {
      retriable: true,
    });
  }
}

/** A response frame announced a size above the connection's limit; the connection is closed. */
export class ResponseTooLargeError extends EkafError {
  constructor(
    readonly broker: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      'ERR_RESPONSE_TOO_LARGE',
      `${broker}: response of ${size} bytes exceeds the limit of ${limit} bytes (maxResponseBytes)`,
    );
  }
}

/** An error code returned by a broker. */
export class KafkaProtocolError extends EkafError {
  constructor(
    readonly errorCode: number,
    readonly errorName: string,
    message: string,
    retriable: boolean,
  ) {
    super('ERR_KAFKA', `${errorName} (${errorCode}): ${message}`, { retriable });
  }
}

/** An option has the wrong type or is out of range. */
export class ConfigError extends EkafError {
  constructor(
    readonly field: string,
    rule: string,
  ) {
    super('ERR_CONFIG', `${field}: ${rule}`);
  }
}

/** A record given to `produce*()` is malformed; `field` names what is wrong (e.g. `records[3].key`). */
export class InvalidRecordError extends EkafError {
  constructor(
    readonly field: string,
    rule: string,
  ) {
    super('ERR_INVALID_RECORD', `${field}: ${rule}`);
  }
}

/** A record is larger than `maxRequestBytes` and could never be sent. */
export class RecordTooLargeError extends EkafError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      'ERR_RECORD_TOO_LARGE',
      `record of ${size} bytes exceeds the limit of ${limit} bytes (maxRequestBytes less request framing)`,
    );
  }
}

/** The producer's buffer is full (`maxBufferedRecords` / `maxBufferedBytes`). Retry later. */
export class BufferFullError extends EkafError {
  constructor(detail: string) {
    super('ERR_BUFFER_FULL', `producer buffer full: ${detail}`, { retriable: true });
  }
}

/** A record was not acknowledged within `deliveryTimeoutMs`; `cause` is the last error seen. */
export class DeliveryTimeoutError extends EkafError {
  constructor(timeoutMs: number, cause?: unknown) {
    super('ERR_DELIVERY_TIMEOUT', `record not acknowledged within deliveryTimeoutMs (${timeoutMs} ms)`, {
      cause,
      retriable: false,
    });
  }
}

/** The producer is closed (or closing) and accepts no more records; or close() gave up on them. */
export class ProducerClosedError extends EkafError {
  constructor(message = 'the producer is closed') {
    super('ERR_PRODUCER_CLOSED', message);
  }
}

/**
 * The spool directory could not be read or written (`cause` is the file system's error: ENOSPC,
 * EACCES, EIO…). A produce call refused with it accepted nothing.
 */
export class SpoolError extends EkafError {
  constructor(message: string, cause?: unknown) {
    super('ERR_SPOOL', message, cause === undefined ? undefined : { cause });
  }
}

/** Another live producer (this process or another) holds the spool directory. */
export class SpoolLockedError extends EkafError {
  constructor(
    readonly dir: string,
    readonly holderPid: number,
  ) {
    super(
      'ERR_SPOOL_LOCKED',
      `spool directory ${dir} is in use by process ${holderPid}: one producer per spool directory`,
    );
  }
}

/**
 * The TLS handshake with a broker failed: its certificate is not trusted, does not name the host,
 * has expired, or the broker does not speak TLS. `reason` is Node's code (e.g.
 * UNABLE_TO_VERIFY_LEAF_SIGNATURE, ERR_TLS_CERT_ALTNAME_INVALID).
 */
export class TlsError extends EkafError {
  constructor(
    broker: string,
    readonly reason: string,
    detail: string,
    cause?: unknown,
  ) {
    super('ERR_TLS', `${broker}: TLS handshake failed: ${detail} (${reason})`, { cause, retriable: true });
  }
}

/**
 * SASL authentication with a broker failed: wrong credentials, a mechanism the broker does not
 * enable, or a broker that could not prove it knows the password (SCRAM). Messages never contain
 * the password.
 */
export class SaslAuthenticationError extends EkafError {
  constructor(message: string) {
    super('ERR_SASL_AUTHENTICATION', `SASL authentication failed: ${message}`, { retriable: false });
  }
}

/** A wait was cancelled by its AbortSignal. */
export class AbortedError extends EkafError {
  constructor(reason?: unknown) {
    super('ERR_ABORTED', 'the operation was aborted', { cause: reason });
  }
}

// ------------------------------------------------------------------------------------ transactions

/**
 * Another producer with the same `transactionalId` has started (InitProducerId gave it a newer
 * epoch): this one is a zombie. The broker answered PRODUCER_FENCED or INVALID_PRODUCER_EPOCH
 * (Java `ProducerFencedException`). The producer refuses transactional work from then on; close
 * it. Nothing it writes after the fence can become visible.
 */
export class ProducerFencedError extends EkafError {
  constructor(
    readonly transactionalId: string,
    detail: string,
    cause?: unknown,
  ) {
    super(
      'ERR_PRODUCER_FENCED',
      `transactional id "${transactionalId}" was taken by a newer producer: ${detail}`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * The current transaction cannot commit: a record of it failed, the broker answered
 * TRANSACTION_ABORTABLE, or an offset commit failed. `cause` says which. Abort it (`tx.abort()`)
 * and start again; the producer stays usable (Java: `commitTransaction()` in ABORTABLE_ERROR).
 */
export class TransactionAbortableError extends EkafError {
  constructor(reason: string, cause?: unknown) {
    super(
      'ERR_TRANSACTION_ABORTABLE',
      `the transaction must be aborted: ${reason}`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/** A record that was part of a transaction that was aborted: it will never be visible to read_committed readers. */
export class TransactionAbortedError extends EkafError {
  constructor(cause?: unknown) {
    super(
      'ERR_TRANSACTION_ABORTED',
      'the transaction was aborted: this record is not visible to read_committed consumers',
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * A transactional operation asked in a state that does not allow it: `produceSync` on a
 * transactional producer outside a transaction, a second `beginTransaction()` while one is open,
 * `commit()` after the transaction ended; or the broker answered INVALID_TXN_STATE. `state` names
 * the transaction actor's state at the time.
 */
export class InvalidTransactionStateError extends EkafError {
  constructor(
    readonly state: string,
    detail: string,
    cause?: unknown,
  ) {
    super(
      'ERR_INVALID_TXN_STATE',
      `${detail} (transaction state: ${state})`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * A transaction operation (initialization, commit, abort, sendOffsets) did not complete within
 * `transactionCoordinatorTimeoutMs` (`cause`: the last error seen), or the broker aborted the
 * transaction because it stayed open longer than `transactionTimeoutMs`.
 */
export class TransactionTimeoutError extends EkafError {
  constructor(detail: string, cause?: unknown) {
    super('ERR_TRANSACTION_TIMEOUT', detail, { cause, retriable: true });
  }
}

/**
 * The transactional producer cannot go on (Java FATAL_ERROR): the transactional id is not
 * authorised, the broker's answer makes no sense in this state, or an abort could not complete.
 * `cause` says why. Close the producer; a new one with the same `transactionalId`
 * completes or aborts whatever this one left open.
 */
export class TransactionFatalError extends EkafError {
  constructor(detail: string, cause?: unknown) {
    super('ERR_TRANSACTION_FATAL', detail, cause === undefined ? undefined : { cause });
  }
}
