import { EncodeError } from '../../errors.js';
import { ApiKey, isFlexible, type Api } from '../api.js';
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

/**
 * FindCoordinator (key 10), v0–v6; flexible from v3. Finds the broker that coordinates a consumer
 * group or a transactional id. v0 has no key type (groups only), v1 adds it; v4 (KIP-699) asks for
 * several keys at once and answers per key. v5 and v6 change nothing on the wire (v5 may answer
 * TRANSACTION_ABORTABLE; v6 adds share-group keys, which ekaf does not ask for).
 */
export const CoordinatorType = { Group: 0, Transaction: 1 } as const;
export type CoordinatorType = (typeof CoordinatorType)[keyof typeof CoordinatorType];

export interface FindCoordinatorRequest {
  keyType: CoordinatorType;
  /** The group ids or transactional ids; exactly one before v4. */
  keys: string[];
}

export interface Coordinator {
  /** v4+; null in v0–v3 answers, which hold the one key asked for without naming it. */
  key: string | null;
  /** -1 with an error. */
  nodeId: number;
  host: string;
  port: number;
  errorCode: number;
  /** v1+; null without an error. */
  errorMessage: string | null;
}

export interface FindCoordinatorResponse {
  throttleTimeMs: number;
  /** One entry a key in v4+; the single answer in v0–v3. */
  coordinators: Coordinator[];
}

const FIRST_BATCHED_VERSION = 4;

export const FindCoordinator: Api<FindCoordinatorRequest, FindCoordinatorResponse> = {
  key: ApiKey.FindCoordinator,
  name: 'FindCoordinator',
  flexibleFrom: 3,

  encodeRequest(writer: Writer, version: number, request: FindCoordinatorRequest): void {
    const flexible = isFlexible(FindCoordinator, version);
    if (version >= FIRST_BATCHED_VERSION) {
      writer.int8(request.keyType).flexArray(flexible, request.keys, (w, key) => w.flexString(flexible, key));
    } else {
      const [key] = request.keys;
      if (key === undefined || request.keys.length > 1) {
        throw new EncodeError(
          `FindCoordinator v${version} takes exactly one key (batches need v${FIRST_BATCHED_VERSION}+), got ${request.keys.length}`,
        );
      }
      if (version === 0 && request.keyType !== CoordinatorType.Group) {
        throw new EncodeError('FindCoordinator v0 finds group coordinators only: it has no key type');
      }
      writer.flexString(flexible, key);
      if (version >= 1) writer.int8(request.keyType);
    }
    writer.flexTaggedFields(flexible);
  },

  decodeResponse(reader: Reader, version: number): FindCoordinatorResponse {
    const flexible = isFlexible(FindCoordinator, version);
    const throttleTimeMs = version >= 1 ? reader.int32() : 0;
    let coordinators: Coordinator[];
    if (version >= FIRST_BATCHED_VERSION) {
      coordinators = reader.flexArray(flexible, (r): Coordinator => {
        const coordinator = {
          key: r.flexString(flexible),
          nodeId: r.int32(),
          host: r.flexString(flexible),
          port: r.int32(),
          errorCode: r.int16(),
          errorMessage: r.flexNullableString(flexible),
        };
        r.flexTaggedFields(flexible);
        return coordinator;
      });
    } else {
      const errorCode = reader.int16();
      const errorMessage = version >= 1 ? reader.flexNullableString(flexible) : null;
      const nodeId = reader.int32();
      const host = reader.flexString(flexible);
      const port = reader.int32();
      coordinators = [{ key: null, nodeId, host, port, errorCode, errorMessage }];
    }
    reader.flexTaggedFields(flexible);
    return { throttleTimeMs, coordinators };
  },
};

/** The answer for `key`: the entry that names it (v4+), or the single unnamed answer of v0–v3. */
export function coordinatorFor(response: FindCoordinatorResponse, key: string): Coordinator | undefined {
  return response.coordinators.find((coordinator) => coordinator.key === key || coordinator.key === null);
}
