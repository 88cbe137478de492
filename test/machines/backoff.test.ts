import { describe, expect, it } from 'vitest';
import { jitteredBackoff } from '../../machines/backoff.js';

describe('jitteredBackoff', () => {
  it('spreads the capped delay by ±20%', () => {
    expect(jitteredBackoff(1, 100, 1000, () => 0)).toBe(80);
    expect(jitteredBackoff(4, 100, 1000, () => 1)).toBe(960);
    expect(jitteredBackoff(10, 100, 1000, () => 1)).toBe(1200);
  });

  it('never passes 2^31 - 1 ms, past which Node fires a timer after 1 ms', () => {
    const max = 2 ** 31 - 1;
    expect(jitteredBackoff(40, 1000, max, () => 1)).toBe(max);
    expect(jitteredBackoff(1, max, max, () => 0.9)).toBe(max);
    expect(jitteredBackoff(1, max, max, () => 0)).toBe(Math.round(max * 0.8));
  });
});
