// The tables and the GF(2) algebra under every CRC-32C path: the slicing tables that the pure
// TypeScript and the WebAssembly kernels look bytes up in, and the maps that carry a CRC register
// through runs of zero bytes (used to patch a CRC, and to join CRCs computed side by side).

/** The reflected Castagnoli polynomial. */
const POLYNOMIAL = 0x82f63b78;

/**
 * Slicing-by-16: TABLES[k * 256 + b] is the CRC register after feeding byte b followed by k zero
 * bytes, so 16 input bytes are folded in with 16 independent lookups instead of 16 dependent
 * steps. One Int32Array holds the 16 tables (one bounds check, constant offsets).
 */
export const TABLES = new Int32Array(16 * 256);
for (let b = 0; b < 256; b++) {
  let c = b;
  for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
  TABLES[b] = c;
}
for (let b = 0; b < 256; b++) {
  let c = TABLES[b] as number;
  for (let k = 1; k < 16; k++) {
    c = (c >>> 8) ^ (TABLES[c & 0xff] as number);
    TABLES[k * 256 + b] = c;
  }
}

// CRC-32C is linear over GF(2): feeding n zero bytes to a register is a linear map, M^n with M
// the map of one zero byte, applied by squaring (M^1, M^2, M^4, ...), 32 words each.

/** ZEROS[k][i]: the register after 2^k zero bytes, from a register with only bit i set. */
const ZEROS: Int32Array[] = [];

function applyMap(map: Int32Array, register: number): number {
  let out = 0;
  for (let i = 0; register !== 0; i++, register >>>= 1) if (register & 1) out ^= map[i] as number;
  return out;
}

function zerosMap(k: number): Int32Array {
  for (let j = ZEROS.length; j <= k; j++) {
    const map = new Int32Array(32);
    for (let i = 0; i < 32; i++) {
      if (j === 0) {
        const c = 1 << i;
        map[i] = (c >>> 8) ^ (TABLES[c & 0xff] as number);
      } else {
        const half = ZEROS[j - 1] as Int32Array;
        map[i] = applyMap(half, half[i] as number);
      }
    }
    ZEROS.push(map);
  }
  return ZEROS[k] as Int32Array;
}

/** The register after `count` zero bytes are fed to `register` (raw: no inversion). */
export function throughZeros(register: number, count: number): number {
  for (let k = 0; count > 0 && register !== 0; k++, count = Math.floor(count / 2)) {
    if (count % 2 === 1) register = applyMap(zerosMap(k), register);
  }
  return register;
}
