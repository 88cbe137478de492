import { describe, expect, it } from 'vitest';
import { TimestampRuns } from '../../src/runtime/timestamp-runs.js';
import { seeded } from '../support/seeded.js';

describe('TimestampRuns', () => {
  it('gives back every pushed timestamp by index, whatever the runs', () => {
    const random = seeded(7);
    const pushed: number[] = [];
    const runs = new TimestampRuns();
    let t = 1_700_000_000_000;
    for (let i = 0; i < 2000; i++) {
      // Mostly repeats (one call's records), some steps forward and back (explicit timestamps).
      const r = random();
      if (r < 0.1) t += 1 + Math.floor(random() * 5);
      else if (r < 0.15) t -= 3;
      runs.push(t);
      pushed.push(t);
    }
    expect(runs.length).toBe(2000);
    expect(runs.toArray()).toEqual(pushed);
    expect(runs.slice(500, 1500).toArray()).toEqual(pushed.slice(500, 1500));
  });

  it('handles one record and single-record runs', () => {
    const runs = new TimestampRuns();
    runs.push(5);
    expect(runs.at(0)).toBe(5);
    runs.push(6);
    runs.push(7);
    expect([runs.at(0), runs.at(1), runs.at(2)]).toEqual([5, 6, 7]);
  });
});
