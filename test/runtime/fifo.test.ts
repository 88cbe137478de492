import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/runtime/fifo.js';

describe('Fifo', () => {
  it('gives items back in order across compactions, and drains', () => {
    const fifo = new Fifo<number>();
    for (let i = 0; i < 5000; i++) fifo.push(i);
    const out: number[] = [];
    for (let i = 0; i < 3000; i++) out.push(fifo.shift() as number);
    for (let i = 5000; i < 6000; i++) fifo.push(i);
    expect(fifo.length).toBe(3000);
    expect(fifo.peek()).toBe(3000);
    expect(fifo.last()).toBe(5999);
    while (fifo.length > 10) out.push(fifo.shift() as number);
    expect(fifo.drain()).toEqual(Array.from({ length: 10 }, (_, i) => 5990 + i));
    expect(out).toEqual(Array.from({ length: 5990 }, (_, i) => i));
    expect(fifo.length).toBe(0);
    expect(fifo.shift()).toBeUndefined();
    expect(fifo.peek()).toBeUndefined();
    expect(fifo.last()).toBeUndefined();
  });
});
