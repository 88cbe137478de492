// The visualizer's page, script and style sheet: bundled from the browser modules when run from
// source, read from the build when built, and served with their Content-Security-Policy.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { visualizerRoutes } from '../../src/gateway/visualizer.js';
import {
  BUILT_DIR,
  bundleAssets,
  loadAssets,
  writeAssets,
  type VisualizerAssets,
} from '../../src/gateway/visualizer/assets.js';

describe('visualizer assets', () => {
  let bundled: VisualizerAssets;
  let server: Server;
  let base: string;
  const dirs: string[] = [];

  beforeAll(async () => {
    bundled = await bundleAssets();
    const routes = visualizerRoutes();
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://visualizer.invalid');
      void Promise.resolve(routes(req, res, url)).then((answered) => {
        if (!answered) res.writeHead(404).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('bundles the browser modules into one script, and the style sheet', () => {
    expect(bundled.js).toContain('/api/actors/stream');
    // One file: the modules' imports are resolved, and no type import is left.
    expect(bundled.js).not.toMatch(/^\s*import\s/m);
    expect(bundled.css).toContain('svg.machine');
    expect(bundled.css).not.toContain('@import');
    expect(bundled.html).toContain('<script type="module" src="/assets/app.js"></script>');
  });

  it('has no inline script or style in the page (the Content-Security-Policy forbids them)', () => {
    expect(bundled.html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(bundled.html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('reads what a build wrote next to the module, rather than bundling', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ekaf-visualizer-'));
    dirs.push(dir);
    const built = { html: '<!doctype html>built', js: 'built();', css: '.built {}' };
    await writeAssets(join(dir, BUILT_DIR), built);
    expect(await loadAssets(dir)).toEqual(built);
  });

  it('serves the page with its Content-Security-Policy, the script, the style sheet and the machines', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toBe(bundled.html);

    const script = await fetch(`${base}/assets/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await script.text()).toBe(bundled.js);
    const style = await fetch(`${base}/assets/app.css`);
    expect(style.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await style.text()).toBe(bundled.css);

    const machines = await fetch(`${base}/api/machines`);
    expect(((await machines.json()) as { kind: string }[]).map((m) => m.kind)).toContain('partition');
  });

  it('answers 304 to a current copy, and leaves other paths to the gateway', async () => {
    const first = await fetch(`${base}/assets/app.js`);
    await first.text();
    const etag = first.headers.get('etag') ?? '';
    const again = await fetch(`${base}/assets/app.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect((await fetch(`${base}/assets/nothing.js`)).status).toBe(404);
    expect((await fetch(`${base}/api/other`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(404);
  });
});
