// The WebAssembly CRC-32C kernel (crc32c-wasm.ts, through the assembler in wasm/): byte for byte
// the crc-32 package's CRC-32C (SheetJS, an independent implementation) at every length and
// alignment that takes a different path through it, inputs larger than its memory included; and,
// in a child process without WebAssembly (node --jitless), the TypeScript tables instead.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import crc32cJs from 'crc-32/crc32c.js';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/protocol/crc32c.js';
import { createCrc32cWasm } from '../../src/protocol/crc32c-wasm.js';
import { seeded, seededBytes as randomBytes } from '../support/seeded.js';

const reference = (data: Uint8Array): number => crc32cJs.buf(data) >>> 0;
const SEED = Number(process.env.EKAF_CRC_SEED ?? 20261203);

function kernel(): (data: Uint8Array) => number {
  const made = createCrc32cWasm();
  if (!('crc32c' in made)) throw new Error(made.reason);
  return made.crc32c;
}

describe('crc32c in WebAssembly', () => {
  it('gives the standard check values', () => {
    const crc = kernel();
    expect(crc(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc(Buffer.alloc(0))).toBe(0);
    // RFC 3720 (iSCSI) B.4.
    expect(crc(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
    expect(crc(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
  });

  it(`every length 0..300 at every offset 0..7, random bytes (seed ${SEED})`, () => {
    console.log(`crc32c-wasm seed ${SEED} (EKAF_CRC_SEED=${SEED} replays it)`);
    const crc = kernel();
    const data = randomBytes(seeded(SEED), 320);
    for (let offset = 0; offset < 8; offset++) {
      for (let length = 0; length <= 300; length++) {
        const view = data.subarray(offset, offset + length);
        expect(crc(view), `offset ${offset}, length ${length}`).toBe(reference(view));
        expect(crc32c(view), `chosen, offset ${offset}, length ${length}`).toBe(reference(view));
      }
    }
  });

  it(`long inputs, unaligned, across the module's input capacity (240 KiB) (seed ${SEED})`, () => {
    const crc = kernel();
    const random = seeded(SEED + 1);
    const data = randomBytes(random, (2 << 20) + 64);
    const capacity = 4 * 65536 - 16 * 1024;
    const lengths = [
      1000,
      16_384,
      capacity - 1,
      capacity,
      capacity + 1,
      capacity + 17,
      2 * capacity,
      2 << 20,
    ];
    for (let k = 0; k < 20; k++) lengths.push(Math.floor(random() * 600_000));
    for (const length of lengths) {
      for (const offset of [0, 1, 3, 63]) {
        const view = data.subarray(offset, offset + length);
        expect(crc(view), `offset ${offset}, length ${length}`).toBe(reference(view));
      }
    }
  });

  it('one kernel after another: each call starts from a clean register, whatever the last left', () => {
    const crc = kernel();
    const random = seeded(SEED + 2);
    const inputs = Array.from({ length: 50 }, () => randomBytes(random, Math.floor(random() * 70_000)));
    const expected = inputs.map(reference);
    expect(inputs.map((input) => crc(input))).toEqual(expected);
    expect(inputs.reverse().map((input) => crc(input))).toEqual(expected.reverse());
  });

  it('without WebAssembly (node --jitless), ekaf falls back to the TypeScript tables, same CRCs', async () => {
    const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url));
    const source = fileURLToPath(new URL('../../src/protocol/crc32c.ts', import.meta.url));
    const program = `
      import { crc32c, crc32cImplementation } from ${JSON.stringify(source)};
      const lengths = [0, 1, 47, 48, 100, 255, 256, 5000, 300000];
      const crcs = lengths.map((n) => crc32c(Buffer.alloc(n, n & 0xff)));
      process.stdout.write(JSON.stringify({ implementation: crc32cImplementation, crcs }));`;
    const child = spawn(
      process.execPath,
      ['--jitless', '--import', tsx, '--input-type=module', '-e', program],
      {
        env: { ...process.env, EKAF_PURE: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout) as {
      implementation: { implementation: string; reason: string };
      crcs: number[];
    };
    expect(result.implementation.implementation).toBe('pure');
    expect(result.implementation.reason).toMatch(/EKAF_PURE is set.*WebAssembly unavailable/);
    const lengths = [0, 1, 47, 48, 100, 255, 256, 5000, 300000];
    expect(result.crcs).toEqual(lengths.map((n) => reference(Buffer.alloc(n, n & 0xff))));
  });
});
