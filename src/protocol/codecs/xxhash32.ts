/**
 * xxHash32, as the LZ4 frame format uses it for its header checksum (and, optionally, block and
 * content checksums). Written from the xxHash specification: four lanes over 16-byte stripes,
 * then the remaining 4-byte words and bytes, then an avalanche.
 */

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;
const PRIME4 = 0x27d4eb2f;
const PRIME5 = 0x165667b1;

function rotl(x: number, bits: number): number {
  return (x << bits) | (x >>> (32 - bits));
}

function word(data: Uint8Array, i: number): number {
  return (
    (data[i] as number) |
    ((data[i + 1] as number) << 8) |
    ((data[i + 2] as number) << 16) |
    ((data[i + 3] as number) << 24)
  );
}

function round(lane: number, input: number): number {
  return Math.imul(rotl((lane + Math.imul(input, PRIME2)) | 0, 13), PRIME1);
}

/** xxHash32 of `data` with `seed`, as an unsigned 32-bit integer. */
export function xxhash32(data: Uint8Array, seed = 0): number {
  const n = data.length;
  let i = 0;
  let h: number;
  if (n >= 16) {
    let v1 = (seed + PRIME1 + PRIME2) | 0;
    let v2 = (seed + PRIME2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME1) | 0;
    for (; i + 16 <= n; i += 16) {
      v1 = round(v1, word(data, i));
      v2 = round(v2, word(data, i + 4));
      v3 = round(v3, word(data, i + 8));
      v4 = round(v4, word(data, i + 12));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + PRIME5) | 0;
  }
  h = (h + n) | 0;
  for (; i + 4 <= n; i += 4) h = Math.imul(rotl((h + Math.imul(word(data, i), PRIME3)) | 0, 17), PRIME4);
  for (; i < n; i++) h = Math.imul(rotl((h + Math.imul(data[i] as number, PRIME5)) | 0, 11), PRIME1);
  h = Math.imul(h ^ (h >>> 15), PRIME2);
  h = Math.imul(h ^ (h >>> 13), PRIME3);
  return (h ^ (h >>> 16)) >>> 0;
}
