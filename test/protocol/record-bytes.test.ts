import { describe, expect, it } from 'vitest';
import { byteSize, putRecordBytes, utf8Size } from '../../src/protocol/record-bytes.js';

// The strings a key or value may be: ASCII, Latin-1 (one V8 byte, two UTF-8 bytes), BMP (three),
// astral (a surrogate pair, four), a lone surrogate (written as U+FFFD, three), at the lengths
// either side of the short-string loop's limit (16 characters).
const SAMPLES = [
  '',
  'k',
  '12345678',
  'a'.repeat(16),
  'a'.repeat(17),
  'é',
  'a'.repeat(15) + 'é',
  'a'.repeat(16) + 'é',
  '€uro',
  '😀',
  'a'.repeat(14) + '😀',
  '\ud800',
  'x\udc00y',
  '{"name":"caf\u00e9","n":1}',
];

describe('utf8Size', () => {
  it.each(SAMPLES.map((text) => [JSON.stringify(text), text]))(
    '%s: the bytes Buffer.from gives',
    (_, text) => {
      expect(utf8Size(text)).toBe(Buffer.from(text, 'utf8').length);
      expect(byteSize(text)).toBe(Buffer.from(text, 'utf8').length);
    },
  );

  it('writes exactly the bytes it counted', () => {
    for (const text of SAMPLES) {
      const size = utf8Size(text);
      const buf = Buffer.alloc(size + 2, 0xaa);
      expect(putRecordBytes(buf, 1, text, size)).toBe(1 + size);
      expect(buf.subarray(1, 1 + size)).toEqual(Buffer.from(text, 'utf8'));
      expect([buf[0], buf[size + 1]]).toEqual([0xaa, 0xaa]);
    }
  });
});
