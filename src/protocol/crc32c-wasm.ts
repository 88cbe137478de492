// CRC-32C in WebAssembly, for when the native package is not there: the same slicing-by-16 as the
// TypeScript one (crc32c-tables.ts), run as machine code without bounds checks. 130 MB in 16 KiB
// batches, Node 24 here: 56 ms, TypeScript 100 ms, the CPU's CRC instruction (native) 26 ms; on
// Node 20, 54 ms against 197 ms.
//
// Folding several parts of a chunk side by side (independent chains the CPU could overlap,
// joined by linearity) measured no faster: 16 table lookups and 4 loads per 16 bytes keep the
// load ports busy already. The input is copied into the module's memory first (a memcpy, a tenth
// of the time): the module cannot read a Node Buffer where it lies.
import { TABLES } from './crc32c-tables.js';
import { assemble, instantiate, wasm, type Code } from './wasm/assembler.js';

/** Memory: the 16 slicing tables, then the input, copied in (the rest is fed in more calls). */
const SLICING_AT = 0;
const INPUT_AT = 16 * 1024;
const PAGES = 4;
const INPUT_CAPACITY = PAGES * 65536 - INPUT_AT;

// Locals: the three parameters, then the kernel's own.
const CRC = 0;
const AT = 1;
const LENGTH = 2;
const END = 3;
/** The 4 words of the 16 bytes being folded in. */
const WORDS = 4;
/** Locals in all, the parameters included. */
const LOCALS = WORDS + 4;

/** The table lookup for byte `j` (0 = lowest) of `word`: a load at `tables + byte * 4`. */
function lookup(word: Code, j: number, tables: number): Code {
  const index = j === 0 ? wasm.shl(word, wasm.const(2)) : wasm.shrU(word, wasm.const(8 * j - 2));
  return wasm.load(wasm.and(index, wasm.const(1020)), tables);
}

/** `crc(register, at, length) → register`: folds memory[at, at + length) into the register. */
const KERNEL: Code[] = (() => {
  const advance = (bytes: number): Code => wasm.set(AT, wasm.add(wasm.get(AT), wasm.const(bytes)));
  return [
    wasm.set(END, wasm.add(wasm.get(AT), wasm.get(LENGTH))),
    // 16 bytes a step: word w's byte j is looked up in table 15 - 4w - j.
    wasm.while(
      wasm.geU(wasm.sub(wasm.get(END), wasm.get(AT)), wasm.const(16)),
      ...[0, 1, 2, 3].map((w) =>
        wasm.set(
          WORDS + w,
          w === 0 ? wasm.xor(wasm.load(wasm.get(AT)), wasm.get(CRC)) : wasm.load(wasm.get(AT), 4 * w),
        ),
      ),
      wasm.set(
        CRC,
        wasm.xor(
          ...[0, 1, 2, 3].flatMap((w) =>
            [0, 1, 2, 3].map((j) => lookup(wasm.get(WORDS + w), j, SLICING_AT + (15 - 4 * w - j) * 1024)),
          ),
        ),
      ),
      advance(16),
    ),
    // The last bytes, one a step.
    wasm.while(
      wasm.ltU(wasm.get(AT), wasm.get(END)),
      wasm.set(
        CRC,
        wasm.xor(
          wasm.shrU(wasm.get(CRC), wasm.const(8)),
          lookup(wasm.xor(wasm.get(CRC), wasm.load8(wasm.get(AT))), 0, SLICING_AT),
        ),
      ),
      advance(1),
    ),
    wasm.get(CRC),
  ];
})();

interface KernelExports {
  memory: { buffer: ArrayBuffer };
  crc: (register: number, at: number, length: number) => number;
}

/**
 * CRC-32C through the WebAssembly kernel, or why it cannot run (WebAssembly off: `--jitless`).
 * The same result as the other paths for every input.
 */
export function createCrc32cWasm(): { crc32c: (data: Uint8Array) => number } | { reason: string } {
  let exports: KernelExports;
  try {
    exports = instantiate(
      assemble(PAGES, [{ name: 'crc', params: 3, locals: LOCALS - 3, body: KERNEL }]),
    ) as KernelExports;
  } catch (error) {
    return { reason: `WebAssembly unavailable (${(error as Error).message})` };
  }
  const heap = new Uint8Array(exports.memory.buffer);
  new Int32Array(exports.memory.buffer, SLICING_AT, TABLES.length).set(TABLES);
  const crc = exports.crc;
  return {
    crc32c: (data) => {
      let register = -1;
      for (let from = 0; from < data.length; from += INPUT_CAPACITY) {
        const piece =
          from === 0 && data.length <= INPUT_CAPACITY
            ? data
            : data.subarray(from, Math.min(data.length, from + INPUT_CAPACITY));
        heap.set(piece, INPUT_AT);
        register = crc(register, INPUT_AT, piece.length);
      }
      return ~register >>> 0;
    },
  };
}
