// Issue 17, finding 4, in a real browser: with `authToken`, the visualizer opened once as
// /?access_token=<token> works whole (style sheet, script, API, live stream, settings form)
// through its session cookie, and the token is gone from the address bar. Before, the page
// loaded unstyled and dead (every sub-request answered 401). Screenshot: test/artifacts/.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, hasChromium, launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { visualizerRoutes } from '../../src/gateway/visualizer.js';
import { startGateway, type Gateway } from '../../src/gateway/server.js';
import { createProducer, type Producer } from '../../src/producer.js';
import { actorNamed } from '../../src/runtime/introspection.js';
import type { ActorSnapshot } from '../../src/runtime/runtime.js';
import { startCluster, type MockCluster } from '../broker/cluster.js';

const SCREENSHOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts', 'visualizer-token.png');
const TOKEN = 'op3n-sesame';
const TOPIC = 'guarded';
const PARTITIONS = 3;

describe.skipIf(!hasChromium)('visualizer with a token, in Chromium', () => {
  let cluster: MockCluster;
  let producer: Producer;
  let gateway: Gateway;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  /** Every answer the page got that was not 2xx or 3xx. */
  const failedRequests: string[] = [];

  beforeAll(async () => {
    cluster = await startCluster({
      peer: '2.12',
      brokers: 3,
      topics: [{ name: TOPIC, partitions: PARTITIONS }],
    });
    producer = createProducer({ brokers: cluster.bootstrap, clientId: 'ekaf-visualizer-token-test' });
    await producer.produceSync(
      TOPIC,
      Array.from({ length: PARTITIONS * 2 }, (_, i) => ({ value: `v${i}`, partition: i % PARTITIONS })),
    );
    gateway = await startGateway({ producer, port: 0, authToken: TOKEN, extraRoutes: visualizerRoutes() });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('response', (response) => {
      if (response.status() >= 400) failedRequests.push(`${response.status()} ${response.url()}`);
    });
  });

  afterAll(async () => {
    await (browser as Browser | undefined)?.close();
    await (gateway as Gateway | undefined)?.close();
    await (producer as Producer | undefined)?.close({ timeoutMs: 5000 });
    await (cluster as MockCluster | undefined)?.stop();
  });

  it('without the token the page is refused, saying how to open it', async () => {
    const context = await browser.newContext();
    const bare = await context.newPage();
    const response = await bare.goto(`${gateway.url}/`);
    expect(response?.status()).toBe(401);
    expect(await bare.locator('body').innerText()).toContain('/?access_token=<token>');
    await context.close();
  });

  it('opened once with access_token, it runs whole on its cookie, the token gone from the URL', async () => {
    await page.goto(`${gateway.url}/?access_token=${TOKEN}`);
    expect(page.url()).toBe(`${gateway.url}/`);
    const row = (name: string) => page.locator(`[data-actor="${name}"]`);
    // The script ran (rows drawn from /api/actors) and the stream is up.
    await expect.poll(() => row('registry').getAttribute('data-state'), { timeout: 20_000 }).toBe('running');
    for (let p = 0; p < PARTITIONS; p++) {
      await expect.poll(() => row(`partition:${TOPIC}:${p}`).getAttribute('data-state')).toBe('ready');
    }
    await expect
      .poll(() => page.locator('#conn').getAttribute('data-status'), { timeout: 10_000 })
      .toBe('live');
    // The style sheet applied: the header is laid out as a flex row, not as bare text.
    expect(
      await page.locator('header').evaluate('getComputedStyle(document.querySelector("header")).display'),
    ).not.toBe('block');
    // The settings form's PUT carries the session too.
    const form = page.locator(`form[data-topic-config="${TOPIC}"]`);
    await form.getByLabel('Linger (ms)').fill('41');
    await form.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => form.locator('output').innerText()).toContain('Applied');
    const actors = (await (
      await fetch(`${gateway.url}/api/actors`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as ActorSnapshot[];
    const topic = actorNamed(actors, `topic:${TOPIC}` as const);
    expect((topic?.details.settings as { lingerMs?: number } | undefined)?.lingerMs).toBe(41);

    expect(pageErrors).toEqual([]);
    expect(failedRequests).toEqual([]);
    // The cookie is out of the page's scripts' reach.
    expect(await page.evaluate('document.cookie')).toBe('');

    await row(`partition:${TOPIC}:0`).locator('button.name').click();
    await page.evaluate('window.scrollTo(0, 0)');
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });
});

if (!hasChromium) {
  describe('visualizer with a token, in Chromium', () => {
    it.skip(`skipped: needs ${CHROMIUM} (apt-get install -y chromium)`, () => undefined);
  });
}
