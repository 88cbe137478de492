import Long from 'long';
import { describe, expect, it } from 'vitest';
import { producerStateExpired } from '../../src/runtime/batch-outcomes.js';

describe('UNKNOWN_PRODUCER_ID: when resetting the sequence is safe (Java client rule)', () => {
  it('is safe only when the log now starts after everything we had acknowledged', () => {
    expect(producerStateExpired(Long.fromNumber(101), 100)).toBe(true); // retention removed our records
    expect(producerStateExpired(Long.fromNumber(100), 100)).toBe(false); // offset 100 is still there
    expect(producerStateExpired(Long.fromNumber(0), -1)).toBe(true); // nothing acknowledged yet
    expect(producerStateExpired(null, -1)).toBe(false); // Produce < v5: the broker does not say
  });
});
