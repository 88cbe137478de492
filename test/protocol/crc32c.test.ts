import crc32cJs from 'crc-32/crc32c.js';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/protocol/crc32c.js';
import { seeded } from '../support/seeded.js';

describe('crc32c', () => {
  it('gives the standard check value', () => {
    expect(crc32c(Buffer.from('123456789')).toString(16)).toBe('e3069283');
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  it('agrees with the pure-JS tables on random data of every small length and larger ones', () => {
    const random = seeded(32);
    // Under 256 bytes the tables compute it; from 256 on, the CPU's instructions (native).
    for (const length of [...Array.from({ length: 70 }, (_, i) => i), 255, 256, 257, 1000, 65_537]) {
      const data = Buffer.alloc(length);
      for (let i = 0; i < length; i++) data[i] = Math.floor(random() * 256);
      expect(crc32c(data), `length ${length}`).toBe(crc32cJs.buf(data) >>> 0);
    }
  });
});
