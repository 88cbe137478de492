import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The soak runner (scripts/soak.ts, `npm run soak -- --minutes N`) for 2 minutes: steady load,
 * a broker bounce each minute; it exits 1 when the heap grows more than 10 % after the first
 * minute, when actors leak across a bounce, or when a record is unaccounted for.
 */
describe('soak, 2 minutes', () => {
  it('keeps heap, actors and records steady through broker bounces', async () => {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', 'scripts/soak.ts', '--minutes', '2'],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.on('close', (exitCode) => {
        resolve({ code: exitCode, output });
      });
    });
    expect(output).toMatch(/soak PASSED/);
    expect(code, output).toBe(0);
    // The summary accounts for every record.
    expect(output).toMatch(/failed 0, refused \(buffer full\) 0/);
  }, 300_000);
});
