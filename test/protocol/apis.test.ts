import { describe, expect, it } from 'vitest';
import { UnsupportedVersionError } from '../../src/errors.js';
import { encodeRequestChunks, encodeRequestFrame } from '../../src/network/request-frame.js';
import { ApiKey, requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/api.js';
import { ApiVersions } from '../../src/protocol/apis/api-versions.js';
import { InitProducerId } from '../../src/protocol/apis/init-producer-id.js';
import { Metadata } from '../../src/protocol/apis/metadata.js';
import { Produce } from '../../src/protocol/apis/produce.js';
import { SaslAuthenticate } from '../../src/protocol/apis/sasl-authenticate.js';
import { SaslHandshake } from '../../src/protocol/apis/sasl-handshake.js';
import { pickVersion, SUPPORTED_VERSIONS } from '../../src/protocol/versions.js';
import { body, decode, h } from '../support/golden.js';

describe('request frames and headers', () => {
  it('frames ApiVersions v3 with request header v2 (golden)', () => {
    const frame = encodeRequestFrame(ApiVersions, 3, 7, 'c', {
      clientSoftwareName: 'ekaf',
      clientSoftwareVersion: '1',
    });
    expect(frame.toString('hex')).toBe(
      h(`00000014        # size 20
         0012 0003       # api key 18, version 3
         00000007        # correlation id
         0001 63         # client id "c" (classic string even in header v2)
         00              # header tagged fields
         05 656b6166     # compact "ekaf"
         02 31           # compact "1"
         00              # body tagged fields`),
    );
  });

  it('frames ApiVersions v0 with header v1 and an empty body (golden)', () => {
    const frame = encodeRequestFrame(ApiVersions, 0, 1, 'c', {
      clientSoftwareName: 'ekaf',
      clientSoftwareVersion: '1',
    });
    expect(frame.toString('hex')).toBe(h('0000000b | 0012 0000 | 00000001 | 0001 63'));
  });

  it('picks header versions from flexibility; ApiVersions responses always use header v0', () => {
    expect(requestHeaderVersion(Produce, 8)).toBe(1);
    expect(requestHeaderVersion(Produce, 9)).toBe(2);
    expect(responseHeaderVersion(Metadata, 8)).toBe(0);
    expect(responseHeaderVersion(Metadata, 9)).toBe(1);
    expect(requestHeaderVersion(ApiVersions, 3)).toBe(2);
    expect(responseHeaderVersion(ApiVersions, 3)).toBe(0);
  });
});

describe('ApiVersions responses', () => {
  it('decodes v3 (compact arrays, tagged fields)', () => {
    const response = decode(
      (r) => ApiVersions.decodeResponse(r, 3),
      `0000                   # error none
       03                     # 2 api keys
       0000 0000 000a 00      # Produce v0-v10, tagged
       0012 0000 0003 00      # ApiVersions v0-v3, tagged
       00000000               # throttle
       02 | 00 01 01 | 03 01 00  # tag 0: no supported features (skipped), tag 3: ZkMigrationReady false (skipped)
       `,
    );
    expect(response.errorCode).toBe(0);
    expect(response.apiKeys).toEqual([
      { apiKey: 0, minVersion: 0, maxVersion: 10 },
      { apiKey: 18, minVersion: 0, maxVersion: 3 },
    ]);
    expect(response.decodedVersion).toBe(3);
    expect(response.finalizedFeaturesEpoch.toNumber()).toBe(-1);
    expect(response.finalizedFeatures).toEqual([]);
  });

  it('decodes a KIP-511 fallback: v0 format whatever version was asked', () => {
    const response = decode(
      (r) => ApiVersions.decodeResponse(r, 3),
      `0023                  # UNSUPPORTED_VERSION (35)
       00000001              # 1 api key (classic array)
       0012 0000 0002        | ApiVersions v0-v2`,
    );
    expect(response.errorCode).toBe(35);
    expect(response.apiKeys).toEqual([{ apiKey: 18, minVersion: 0, maxVersion: 2 }]);
    expect(response.decodedVersion).toBe(0);
  });

  it("accepts librdkafka mock's non-v0 fallback by reporting no ranges (handshake then uses v0)", () => {
    // Captured from librdkafka 2.0.2 and 2.12.0 mock brokers answering an ApiVersions v3 request:
    // a one-byte element count (1, not 1 + 1), one range, a throttle time.
    const response = decode((r) => ApiVersions.decodeResponse(r, 3), '0023 | 01 | 0012 0000 0002 | 00000000');
    expect(response).toMatchObject({ errorCode: 35, apiKeys: [], throttleTimeMs: 0, decodedVersion: 0 });
    expect(response.finalizedFeatures).toEqual([]);
  });

  it('decodes v1/v2 with throttle time', () => {
    const response = decode(
      (r) => ApiVersions.decodeResponse(r, 2),
      '0000 | 00000001 | 0003 0001 000c | 00000064',
    );
    expect(response.throttleTimeMs).toBe(100);
    expect(response.apiKeys[0]).toEqual({ apiKey: 3, minVersion: 1, maxVersion: 12 });
  });
});

describe('Metadata', () => {
  const request = { topics: ['t'], allowAutoTopicCreation: true };

  it('encodes each request shape (golden)', () => {
    expect(
      body((w) => {
        Metadata.encodeRequest(w, 1, request);
      }),
    ).toBe(h('00000001 | 0001 74'));
    expect(
      body((w) => {
        Metadata.encodeRequest(w, 1, { topics: null, allowAutoTopicCreation: false });
      }),
    ).toBe('ffffffff');
    expect(
      body((w) => {
        Metadata.encodeRequest(w, 4, request);
      }),
    ).toBe(h('00000001 | 0001 74 | 01'));
    expect(
      body((w) => {
        Metadata.encodeRequest(w, 8, request);
      }),
    ).toBe(h('00000001 | 0001 74 | 01 | 00 00'));
    expect(
      body((w) => {
        Metadata.encodeRequest(w, 9, request);
      }),
    ).toBe(h('02 | 02 74 00 | 01 | 00 00 | 00'));
    const zeroUuid = '00'.repeat(16);
    expect(
      body((w) => {
        Metadata.encodeRequest(w, 10, request);
      }),
    ).toBe(h(`02 | ${zeroUuid} 02 74 00 | 01 | 00 00 | 00`));
    expect(
      body((w) => {
        Metadata.encodeRequest(w, 12, request);
      }),
    ).toBe(h(`02 | ${zeroUuid} 02 74 00 | 01 | 00 | 00`));
  });

  it('decodes v1: brokers with rack, controller, topics, partitions', () => {
    const response = decode(
      (r) => Metadata.decodeResponse(r, 1),
      `00000001 | 00000001 0009 6c6f63616c686f7374 00002384 ffff   # broker 1 localhost:9092, no rack
       00000001                                                 # controller 1
       00000001 | 0000 0001 74 00                               # topic "t", not internal
       00000001 | 0000 00000000 00000001 | 00000001 00000001 | 00000001 00000001`,
    );
    expect(response.brokers).toEqual([{ nodeId: 1, host: 'localhost', port: 9092, rack: null }]);
    expect(response.controllerId).toBe(1);
    expect(response.clusterId).toBeNull();
    expect(response.topics).toEqual([
      {
        errorCode: 0,
        name: 't',
        topicId: null,
        isInternal: false,
        partitions: [
          {
            errorCode: 0,
            partition: 0,
            leaderId: 1,
            leaderEpoch: -1,
            replicaNodes: [1],
            isrNodes: [1],
            offlineReplicas: [],
          },
        ],
      },
    ]);
  });

  it('decodes v12: flexible, topic ids, leader epochs, authorized operations', () => {
    const topicId = '0102030405060708090a0b0c0d0e0f10';
    const response = decode(
      (r) => Metadata.decodeResponse(r, 12),
      `00000000                                   # throttle
       02 | 00000002 02 68 00000005 02 72 00      # broker 2 "h":5 rack "r"
       04 63 69 64                                # cluster id "cid"
       00000002                                   # controller
       02 | 0003 02 74 ${topicId} 00              # topic "t", error 3 (UNKNOWN_TOPIC_OR_PARTITION), not internal
          02 | 0000 00000000 00000002 00000007 02 00000002 02 00000002 01 00  # partition 0 leader 2 epoch 7, no offline
          80000000 00                             # topic authorized ops, tagged
       00                                         | tagged`,
    );
    expect(response.brokers).toEqual([{ nodeId: 2, host: 'h', port: 5, rack: 'r' }]);
    expect(response.clusterId).toBe('cid');
    expect(response.topics[0]?.errorCode).toBe(3);
    expect(response.topics[0]?.topicId?.toString('hex')).toBe(topicId);
    expect(response.topics[0]?.partitions[0]).toEqual({
      errorCode: 0,
      partition: 0,
      leaderId: 2,
      leaderEpoch: 7,
      replicaNodes: [2],
      isrNodes: [2],
      offlineReplicas: [],
    });
  });
});

describe('Produce', () => {
  const records = Buffer.from('abcd', 'hex');
  const request = {
    transactionalId: null,
    acks: -1 as const,
    timeoutMs: 30000,
    topics: [{ name: 't', partitions: [{ partition: 2, records }] }],
  };

  it('encodes v3 and v9 requests (golden)', () => {
    expect(
      body((w) => {
        Produce.encodeRequest(w, 3, request);
      }),
    ).toBe(h(`ffff | ffff | 00007530 | 00000001 | 0001 74 | 00000001 | 00000002 | 00000002 abcd`));
    expect(
      body((w) => {
        Produce.encodeRequest(w, 9, request);
      }),
    ).toBe(h(`00 | ffff | 00007530 | 02 | 02 74 | 02 | 00000002 | 03 abcd | 00 | 00 | 00`));
  });

  it('sends a large record batch by reference, framed exactly as a copied one', () => {
    // Batches of 2 KiB and more are written from their own buffer after the request's framing.
    const batch = Buffer.alloc(5000, 0xab);
    const large = { ...request, topics: [{ name: 't', partitions: [{ partition: 2, records: batch }] }] };
    for (const version of [3, 9]) {
      const chunks = encodeRequestChunks(Produce, version, 11, 'c', large);
      // Framing, then the batch itself, then (flexible versions) the tagged-field bytes after it.
      expect(chunks).toHaveLength(version === 9 ? 3 : 2);
      expect(chunks[1]).toBe(batch);
      const frame = Buffer.concat(chunks);
      expect(frame.readInt32BE(0)).toBe(frame.length - 4);
      expect(frame.equals(encodeRequestFrame(Produce, version, 11, 'c', large))).toBe(true);
      const expected = encodeRequestFrame(Produce, version, 11, 'c', request).toString('hex');
      // The same bytes as the golden small request, with the longer batch in its place.
      const lengthOf = (n: number): string =>
        version === 9
          ? Buffer.from([((n + 1) & 0x7f) | 0x80, (n + 1) >> 7]).toString('hex')
          : n.toString(16).padStart(8, '0');
      expect(frame.subarray(4).toString('hex')).toBe(
        expected
          .slice(8)
          .replace(`${version === 9 ? '03' : '00000002'}abcd`, `${lengthOf(5000)}${batch.toString('hex')}`),
      );
    }
  });

  it('decodes v3: base offset and log append time', () => {
    const response = decode(
      (r) => Produce.decodeResponse(r, 3),
      `00000001 | 0001 74 | 00000001 | 00000002 0000 000000000000002a ffffffffffffffff | 00000000`,
    );
    const partition = response.topics[0]?.partitions[0];
    expect(partition?.partition).toBe(2);
    expect(partition?.baseOffset.toNumber()).toBe(42);
    expect(partition?.logAppendTimeMs.toNumber()).toBe(-1);
    expect(partition?.logStartOffset).toBeNull();
  });

  it('decodes v5: log start offset', () => {
    const response = decode(
      (r) => Produce.decodeResponse(r, 5),
      `00000001 | 0001 74 | 00000001 | 00000000 0000 0000000000000007 00000000000003e8 0000000000000002 | 00000000`,
    );
    const partition = response.topics[0]?.partitions[0];
    expect(partition?.baseOffset.toNumber()).toBe(7);
    expect(partition?.logAppendTimeMs.toNumber()).toBe(1000);
    expect(partition?.logStartOffset?.toNumber()).toBe(2);
  });

  it('decodes v8 record errors', () => {
    const response = decode(
      (r) => Produce.decodeResponse(r, 8),
      `00000001 | 0001 74 | 00000001 | 00000000 0057 ffffffffffffffff ffffffffffffffff 0000000000000000
       00000001 | 00000003 0003 626164 | 0004 6f6f7073 | 00000000`,
    );
    const partition = response.topics[0]?.partitions[0];
    expect(partition?.errorCode).toBe(87);
    expect(partition?.recordErrors).toEqual([{ batchIndex: 3, message: 'bad' }]);
    expect(partition?.errorMessage).toBe('oops');
  });

  it('decodes v10 tagged current leader and node endpoints (KIP-951)', () => {
    const response = decode(
      (r) => Produce.decodeResponse(r, 10),
      `02 | 02 74 | 02 | 00000000 0006 ffffffffffffffff ffffffffffffffff ffffffffffffffff 01 00  # no record errors, no message
            | 01 | 00 08 00000003 00000009    # tag 0: current leader 3 epoch 9
          00                                  # topic tagged
       00000000                               # throttle
       01 | 00 0d | 02 00000003 02 68 00000007 00 00 # tag 0 (13 bytes): node endpoints [3 "h":7 rack null]`,
    );
    const partition = response.topics[0]?.partitions[0];
    expect(partition?.errorCode).toBe(6);
    expect(partition?.currentLeader).toEqual({ leaderId: 3, leaderEpoch: 9 });
    expect(response.nodeEndpoints).toEqual([{ nodeId: 3, host: 'h', port: 7, rack: null }]);
  });
});

describe('InitProducerId', () => {
  const request = { transactionalId: null, transactionTimeoutMs: 60000, producerId: 7, producerEpoch: 2 };

  it('encodes v0-v1, flexible v2, and v3+ with the current producer id and epoch (golden)', () => {
    expect(
      body((w) => {
        InitProducerId.encodeRequest(w, 0, request);
      }),
    ).toBe(h('ffff | 0000ea60'));
    expect(
      body((w) => {
        InitProducerId.encodeRequest(w, 2, request);
      }),
    ).toBe(h('00 | 0000ea60 | 00'));
    expect(
      body((w) => {
        InitProducerId.encodeRequest(w, 3, request);
      }),
    ).toBe(h('00 | 0000ea60 | 0000000000000007 | 0002 | 00'));
  });

  it('decodes v0 and flexible responses', () => {
    const v0 = decode(
      (r) => InitProducerId.decodeResponse(r, 0),
      '00000000 | 0000 | 000000000000002a | 0003',
    );
    expect(v0.producerId.toNumber()).toBe(42);
    expect(v0.producerEpoch).toBe(3);
    const v4 = decode(
      (r) => InitProducerId.decodeResponse(r, 4),
      '00000000 | 002f | ffffffffffffffff | ffff | 00',
    );
    expect(v4.errorCode).toBe(47); // INVALID_PRODUCER_EPOCH
  });
});

describe('version choice', () => {
  it('uses min(ours, broker) and names both ranges when they are disjoint', () => {
    expect(pickVersion(Produce, [{ apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 7 }])).toBe(7);
    expect(pickVersion(Produce, [{ apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 13 }])).toBe(12);
    // The message names both ranges: what a user reads to see which side is too old.
    expect(() => pickVersion(Produce, [{ apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 2 }])).toThrow(
      'Produce: no common version (ekaf supports v3-v12, the broker v0-v2)',
    );
    expect(() =>
      pickVersion(Metadata, [{ apiKey: ApiKey.Metadata, minVersion: 13, maxVersion: 13 }]),
    ).toThrow(UnsupportedVersionError);
    expect(() => pickVersion(Metadata, [])).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_VERSION', apiName: 'Metadata', broker: undefined }),
    );
  });

  it('never sends Produce below v3', () => {
    expect(SUPPORTED_VERSIONS[ApiKey.Produce].min).toBe(3);
  });
});

describe('SaslHandshake and SaslAuthenticate', () => {
  it('encodes SaslHandshake v1 and decodes its answer (golden)', () => {
    expect(
      body((w) => {
        SaslHandshake.encodeRequest(w, 1, { mechanism: 'SCRAM-SHA-256' });
      }),
    ).toBe(h(`000d ${Buffer.from('SCRAM-SHA-256').toString('hex')}`));
    const response = decode(
      (r) => SaslHandshake.decodeResponse(r, 1),
      `0021 | 00000002 | 0005 ${Buffer.from('PLAIN').toString('hex')} | 000d ${Buffer.from('SCRAM-SHA-512').toString('hex')}`,
    );
    expect(response).toEqual({ errorCode: 33, mechanisms: ['PLAIN', 'SCRAM-SHA-512'] });
  });

  it('encodes SaslAuthenticate v0 and v2 requests (golden)', () => {
    const authBytes = Buffer.from('n,,n=u,r=x');
    expect(
      body((w) => {
        SaslAuthenticate.encodeRequest(w, 0, { authBytes });
      }),
    ).toBe(h(`0000000a ${authBytes.toString('hex')}`));
    expect(
      body((w) => {
        SaslAuthenticate.encodeRequest(w, 2, { authBytes });
      }),
    ).toBe(h(`0b ${authBytes.toString('hex')} 00`));
  });

  it('decodes SaslAuthenticate v0, v1 and v2 answers (golden)', () => {
    const bytes = Buffer.from('r=xy,s=AA==,i=4096').toString('hex');
    expect(decode((r) => SaslAuthenticate.decodeResponse(r, 0), `0000 | ffff | 00000012 ${bytes}`)).toEqual({
      errorCode: 0,
      errorMessage: null,
      authBytes: Buffer.from('r=xy,s=AA==,i=4096'),
      sessionLifetimeMs: null,
    });
    const v1 = decode(
      (r) => SaslAuthenticate.decodeResponse(r, 1),
      `003a | 0003 626164 | 00000000 | 0000000000000000`,
    );
    expect(v1).toMatchObject({ errorCode: 58, errorMessage: 'bad', authBytes: Buffer.alloc(0) });
    expect(v1.sessionLifetimeMs?.toNumber()).toBe(0);
    const v2 = decode(
      (r) => SaslAuthenticate.decodeResponse(r, 2),
      `0000 | 00 | 13 ${bytes} | 00000000000003e8 | 00`,
    );
    expect(v2.authBytes.toString()).toBe('r=xy,s=AA==,i=4096');
    expect(v2.sessionLifetimeMs?.toNumber()).toBe(1000);
  });
});
