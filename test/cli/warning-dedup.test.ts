// The warning deduplicator of the command line's logger (src/cli/warning-dedup.ts), on xstate's
// SimulatedClock: time passes only when the test says so, and no test sleeps.
import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/config.js';
import { DEDUP_MAX_KEYS, dedupWarnings, WarningDedup } from '../../src/cli/warning-dedup.js';

/** A WarningDedup printing into `lines` ("message {fields}"), on a clock at 0. */
function setup(intervalMs = 10_000) {
  const clock = new SimulatedClock();
  const lines: string[] = [];
  const dedup = new WarningDedup(
    (message, fields) => {
      lines.push(fields === undefined ? message : `${message} ${JSON.stringify(fields)}`);
    },
    { intervalMs, clock },
  );
  return { clock, lines, dedup };
}

const REFUSED = 'ekaf: metadata refresh failed: 127.0.0.1:1: socket error: connect ECONNREFUSED 127.0.0.1:1';

describe('WarningDedup', () => {
  it('prints a warning once, then its repeats as one count per interval, then that it stopped', () => {
    const { clock, lines, dedup } = setup();
    // A reconnect every 250 ms for 25 s, as during an outage, with the attempt count in fields.
    let attempt = 0;
    for (let t = 0; t < 25_000; t += 250) {
      clock.set(t);
      dedup.warn(REFUSED, { attempts: ++attempt });
    }
    expect(attempt).toBe(100);
    // SimulatedClock runs a timer with now() at the time set, not the time due: one step each.
    clock.set(30_000);
    clock.set(40_000);
    expect(lines).toEqual([
      `${REFUSED} {"attempts":1}`,
      // 10 s: the 39 repeats after the first line (0.25 s … 9.75 s), with the latest fields.
      `${REFUSED} (repeated 39 times in the last 10 s) {"attempts":40}`,
      `${REFUSED} (repeated 40 times in the last 10 s) {"attempts":80}`,
      `${REFUSED} (repeated 20 times in the last 10 s) {"attempts":100}`,
      // 40 s: nothing since the line at 30 s.
      `${REFUSED} (not seen for 10 s; 100 times in all) {"attempts":100}`,
    ]);
    expect(dedup.size).toBe(0);
  });

  it('keys on the text: other brokers, ports or messages print at once; fields do not make a warning new', () => {
    const { lines, dedup } = setup();
    dedup.warn('ekaf: broker:1 connection failed: 127.0.0.1:9092: refused', { attempts: 1 });
    dedup.warn('ekaf: broker:2 connection failed: 127.0.0.1:9093: refused', { attempts: 1 });
    dedup.warn('ekaf: broker:1 connection failed: 127.0.0.1:9092: refused', { attempts: 2 });
    dedup.warn('ekaf: broker:1 connection failed: 127.0.0.1:9092: connect timed out after 10000 ms');
    expect(lines).toEqual([
      'ekaf: broker:1 connection failed: 127.0.0.1:9092: refused {"attempts":1}',
      'ekaf: broker:2 connection failed: 127.0.0.1:9093: refused {"attempts":1}',
      'ekaf: broker:1 connection failed: 127.0.0.1:9092: connect timed out after 10000 ms',
    ]);
    expect(dedup.size).toBe(3);
  });

  it('a warning seen once is forgotten after an interval, without a line, and printed again when it comes back', () => {
    const { clock, lines, dedup } = setup(5000);
    dedup.warn('ekaf: the broker has no InitProducerId; idempotence is off');
    clock.increment(4999);
    expect(dedup.size).toBe(1);
    clock.increment(1);
    expect(dedup.size).toBe(0);
    expect(lines).toHaveLength(1);
    // Slower than the interval: every occurrence is a line of its own, none is held back.
    clock.increment(7000);
    dedup.warn('ekaf: the broker has no InitProducerId; idempotence is off');
    expect(lines).toEqual([
      'ekaf: the broker has no InitProducerId; idempotence is off',
      'ekaf: the broker has no InitProducerId; idempotence is off',
    ]);
  });

  it('one repeat is "once"; counts restart at every line; a warning that stops and returns starts again', () => {
    const { clock, lines, dedup } = setup(10_000);
    dedup.warn('w');
    clock.set(3000);
    dedup.warn('w');
    clock.set(10_000);
    expect(lines).toEqual(['w', 'w (repeated once in the last 10 s)']);
    clock.set(20_000); // nothing since 10 s: it stopped
    expect(lines.at(-1)).toBe('w (not seen for 10 s; 2 times in all)');
    clock.set(21_000);
    dedup.warn('w');
    expect(lines.at(-1)).toBe('w');
    expect(lines).toHaveLength(4);
  });

  it('flush() prints the repeats held back, with the time since the last line, and forgets everything', () => {
    const { clock, lines, dedup } = setup();
    dedup.warn('a', { attempts: 1 });
    dedup.warn('b');
    clock.set(1000);
    dedup.warn('a', { attempts: 2 });
    clock.set(1500);
    dedup.warn('a', { attempts: 3 });
    dedup.flush();
    expect(lines).toEqual(['a {"attempts":1}', 'b', 'a (repeated 2 times in the last 1.5 s) {"attempts":3}']);
    expect(dedup.size).toBe(0);
    clock.set(60_000); // its timers were cleared: nothing more
    expect(lines).toHaveLength(3);
  });

  it(`holds at most ${DEDUP_MAX_KEYS} warnings; past that, new ones print as they come`, () => {
    const { clock, lines, dedup } = setup();
    for (let i = 0; i < DEDUP_MAX_KEYS + 5; i++) dedup.warn(`topic-${i} failed`);
    expect(dedup.size).toBe(DEDUP_MAX_KEYS);
    dedup.warn(`topic-${DEDUP_MAX_KEYS + 1} failed`);
    dedup.warn('topic-0 failed');
    expect(lines).toHaveLength(DEDUP_MAX_KEYS + 6);
    clock.set(10_000);
    expect(lines).toHaveLength(DEDUP_MAX_KEYS + 7);
    expect(lines).toContain('topic-0 failed (repeated once in the last 10 s)');
    expect(dedup.size).toBe(1);
  });
});

describe('dedupWarnings(logger)', () => {
  it('holds back repeated warnings only: debug, info and errors pass as they are', () => {
    const clock = new SimulatedClock();
    const printed: string[] = [];
    const inner: Logger = {
      debug: (m) => printed.push(`debug ${m}`),
      info: (m) => printed.push(`info ${m}`),
      warn: (m) => printed.push(`warn ${m}`),
      error: (m) => printed.push(`error ${m}`),
    };
    const logger = dedupWarnings(inner, { clock, intervalMs: 1000 });
    for (let i = 0; i < 3; i++) {
      logger.debug('d');
      logger.info('i');
      logger.warn('w');
      logger.error('e');
    }
    clock.set(1000);
    expect(printed).toEqual([
      'debug d',
      'info i',
      'warn w',
      'error e',
      'debug d',
      'info i',
      'error e',
      'debug d',
      'info i',
      'error e',
      'warn w (repeated 2 times in the last 1 s)',
    ]);
    clock.set(1500);
    logger.warn('w');
    logger.flush();
    expect(printed.at(-1)).toBe('warn w (repeated once in the last 0.5 s)');
  });
});
