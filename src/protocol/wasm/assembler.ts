// The smallest WebAssembly assembler that serves ekaf's kernels: one module with one exported
// memory and exported functions over i32s, written from TypeScript rather than shipped as an
// opaque binary. WebAssembly is not a native addon: it runs wherever Node runs (but under
// --jitless, where the caller falls back to plain TypeScript).
//
// Only the instructions the kernels use are here; see the WebAssembly core specification,
// "Binary Format", for the encodings (https://webassembly.github.io/spec/core/binary/).

/** Opcodes of the instructions used (core spec 5.4). */
const OP = {
  block: 0x02,
  loop: 0x03,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  i32Load: 0x28,
  i32Load8U: 0x2d,
  i32Const: 0x41,
  i32LtU: 0x49,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32And: 0x71,
  i32Xor: 0x73,
  i32Shl: 0x74,
  i32ShrU: 0x76,
} as const;

const I32 = 0x7f;
const EMPTY_BLOCK = 0x40;

/** An expression: the bytes of instructions that leave one i32 on the stack (or none). */
export type Code = number[];

function unsignedLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

function signedLeb(value: number): number[] {
  const out: number[] = [];
  value |= 0;
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** Instructions as functions returning their bytes; operands first, as the stack machine wants. */
export const wasm = {
  get: (local: number): Code => [OP.localGet, ...unsignedLeb(local)],
  set: (local: number, value: Code): Code => [...value, OP.localSet, ...unsignedLeb(local)],
  const: (value: number): Code => [OP.i32Const, ...signedLeb(value)],
  /** The 32-bit word at `address + offset` (little-endian; unaligned is allowed, only slower). */
  load: (address: Code, offset = 0): Code => [...address, OP.i32Load, 2, ...unsignedLeb(offset)],
  load8: (address: Code, offset = 0): Code => [...address, OP.i32Load8U, 0, ...unsignedLeb(offset)],
  add: (a: Code, b: Code): Code => [...a, ...b, OP.i32Add],
  sub: (a: Code, b: Code): Code => [...a, ...b, OP.i32Sub],
  and: (a: Code, b: Code): Code => [...a, ...b, OP.i32And],
  shl: (a: Code, b: Code): Code => [...a, ...b, OP.i32Shl],
  shrU: (a: Code, b: Code): Code => [...a, ...b, OP.i32ShrU],
  ltU: (a: Code, b: Code): Code => [...a, ...b, OP.i32LtU],
  geU: (a: Code, b: Code): Code => [...a, ...b, OP.i32GeU],
  /** The XOR of every term, as a balanced tree (independent terms, so the CPU overlaps them). */
  xor: (...terms: Code[]): Code => {
    if (terms.length === 1) return terms[0] as Code;
    const half = terms.length >> 1;
    return [...wasm.xor(...terms.slice(0, half)), ...wasm.xor(...terms.slice(half)), OP.i32Xor];
  },
  /**
   * `while (condition) body`: a loop in a block, leaving the block when the condition is false
   * at the top of an iteration.
   */
  while: (condition: Code, ...body: Code[]): Code => [
    OP.block,
    EMPTY_BLOCK,
    OP.loop,
    EMPTY_BLOCK,
    ...condition,
    // i32.eqz: leave when false.
    0x45,
    OP.brIf,
    1,
    ...body.flat(),
    OP.br,
    0,
    OP.end,
    OP.end,
  ],
};

/** A function of `params` i32 parameters returning one i32, with `locals` more i32 locals. */
export interface FunctionSpec {
  name: string;
  params: number;
  locals: number;
  body: Code[];
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content];
}

function vector(items: number[][]): number[] {
  return [...unsignedLeb(items.length), ...items.flat()];
}

function name(text: string): number[] {
  const bytes = [...Buffer.from(text, 'utf8')];
  return [...unsignedLeb(bytes.length), ...bytes];
}

/**
 * The bytes of a module exporting `memory` (of `pages` pages of 64 KiB, which the functions
 * cannot grow) and the functions, each under its name.
 */
export function assemble(pages: number, functions: FunctionSpec[]): Uint8Array {
  const types = functions.map((f) => [
    0x60,
    ...vector(Array.from({ length: f.params }, () => [I32])),
    1,
    I32,
  ]);
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d], // "\0asm"
    ...[0x01, 0x00, 0x00, 0x00], // version 1
    ...section(1, vector(types)),
    ...section(3, vector(functions.map((_, i) => unsignedLeb(i)))),
    ...section(5, vector([[0x01, ...unsignedLeb(pages), ...unsignedLeb(pages)]])),
    ...section(
      7,
      vector([
        [...name('memory'), 0x02, 0],
        ...functions.map((f, i) => [...name(f.name), 0x00, ...unsignedLeb(i)]),
      ]),
    ),
    ...section(
      10,
      vector(
        functions.map((f) => {
          const locals = f.locals === 0 ? vector([]) : vector([[...unsignedLeb(f.locals), I32]]);
          const code = [...locals, ...f.body.flat(), OP.end];
          return [...unsignedLeb(code.length), ...code];
        }),
      ),
    ),
  ];
  return Uint8Array.from(bytes);
}

/**
 * The WebAssembly API, which Node provides but the ES2022 library types ekaf compiles with do
 * not declare; only what instantiate() uses.
 */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

/** The exports of a module instantiated synchronously (small modules only); throws where WebAssembly is off. */
export function instantiate(bytes: Uint8Array): unknown {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports;
}
