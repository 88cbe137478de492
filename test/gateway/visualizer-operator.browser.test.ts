// Issue 17, finding 6, in Chromium: what an operator sees, with a token. Under load: each topic
// and broker charts its records/s and latency, the header says "ok"; a collapsed wide topic
// keeps its totals and settings in view; a click anywhere on a row selects it; the timeline
// lists state changes. In an outage (every broker down): the header says "down" and why, the
// partitions buffer, and errors are shown whole. Screenshots of both: test/artifacts/.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, hasChromium, launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { visualizerRoutes } from '../../src/gateway/visualizer.js';
import { startGateway, type Gateway } from '../../src/gateway/server.js';
import { createProducer, type Producer } from '../../src/producer.js';
import { ofKind } from '../../src/runtime/introspection.js';
import { startCluster, type MockCluster } from '../broker/cluster.js';

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
const TOKEN = 'operator-view';
const TOPIC = 'load';
const PARTITIONS = 6;
/** More partitions than the page shows expanded (24): it starts collapsed. */
const WIDE = 'wide';
const WIDE_PARTITIONS = 40;

describe.skipIf(!hasChromium)('the operator’s live view, in Chromium', () => {
  let cluster: MockCluster;
  let producer: Producer;
  let gateway: Gateway;
  let browser: Browser;
  let page: Page;
  let load: NodeJS.Timeout | undefined;
  const pageErrors: string[] = [];

  const text = (selector: string): Promise<string> => page.locator(selector).first().innerText();
  const stopLoad = (): void => {
    clearInterval(load);
    load = undefined;
  };

  beforeAll(async () => {
    cluster = await startCluster({
      peer: '2.12',
      brokers: 3,
      topics: [
        { name: TOPIC, partitions: PARTITIONS },
        { name: WIDE, partitions: WIDE_PARTITIONS },
      ],
    });
    producer = createProducer({
      brokers: cluster.bootstrap,
      clientId: 'ekaf-operator-view',
      deliveryTimeoutMs: 120_000,
    });
    await producer.produceSync(WIDE, { value: 'one', partition: 3 });
    gateway = await startGateway({ producer, port: 0, authToken: TOKEN, extraRoutes: visualizerRoutes() });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // Load: 200 records every 20 ms (10 000 records/s), spread over the partitions.
    let n = 0;
    load = setInterval(() => {
      producer.produceAsync(
        TOPIC,
        Array.from({ length: 200 }, () => ({ value: `record ${n++}`, partition: n % PARTITIONS })),
      );
    }, 20);
    await page.goto(`${gateway.url}/?access_token=${TOKEN}`);
  });

  afterAll(async () => {
    stopLoad();
    await (browser as Browser | undefined)?.close();
    await (gateway as Gateway | undefined)?.close();
    await (producer as Producer | undefined)?.close({ timeoutMs: 5000 });
    await (cluster as MockCluster | undefined)?.stop();
  });

  it('under load: charts per topic and broker, health ok, a collapsed topic’s totals and settings in view', async () => {
    const topicChart = page.locator(`[data-chart="topic:${TOPIC}"] .spark-numbers`);
    // A second with thousands of records acknowledged, and its latency.
    await expect
      .poll(async () => Number((await topicChart.innerText()).split(' ')[0]?.replace(/,/g, '')), {
        timeout: 20_000,
        interval: 250,
      })
      .toBeGreaterThan(1000);
    expect(await topicChart.innerText()).toMatch(
      /rec\/s · [\d.]+ (KiB|MiB)\/s · p50 [\d.]+ ms · p99 [\d.]+ ms/,
    );
    // The area is drawn from the samples: a path, not empty.
    expect(await page.locator(`[data-chart="topic:${TOPIC}"] path.rate`).getAttribute('d')).toMatch(/^M.+Z$/);
    // The chart of each broker that leads a partition of the topic shows what it acknowledged
    // (the mock spreads leaders at random: a broker may lead none, and its chart says "idle").
    const leaders = new Set(
      ofKind(producer.inspect(), 'partition')
        .filter((p) => p.details.topic === TOPIC)
        .map((p) => p.details.leaderId),
    );
    expect(leaders.size).toBeGreaterThan(0);
    for (const id of leaders) {
      await expect
        .poll(() => text(`[data-chart="broker:${id}"] .spark-numbers`), { timeout: 10_000 })
        .toMatch(/^[\d,]+ rec\/s/);
    }
    await expect
      .poll(() => page.locator('#health').getAttribute('data-state'), { timeout: 10_000 })
      .toBe('ok');
    expect(await text('#totals')).toMatch(/3 of 3 brokers ready/);

    // The wide topic starts collapsed: its partitions hidden, its totals and settings shown.
    const wide = page.locator(`section[data-topic="${WIDE}"]`);
    await expect.poll(() => wide.locator('.topic-body').isHidden()).toBe(true);
    expect(await wide.locator('.topic-totals').innerText()).toMatch(/^acked 1 · failed 0 · buffered 0/);
    expect(await wide.locator('form[data-topic-config] input').first().isVisible()).toBe(true);
    expect(await wide.locator(`[data-chart="topic:${WIDE}"]`).isVisible()).toBe(true);
    expect(pageErrors).toEqual([]);
  });

  it('selects an actor from a click anywhere on its row, and from the timeline', async () => {
    // The partition's "Acked" cell, not its name button.
    await page.locator(`[data-actor="partition:${TOPIC}:2"] td.num`).nth(3).click();
    await expect.poll(() => text('.detail-name')).toContain(`partition:${TOPIC}:2`);
    // The timeline lists state changes (the workers' way to ready), newest first.
    const entries = page.locator('#timeline li');
    await expect.poll(() => entries.count()).toBeGreaterThan(0);
    const newest = page.locator('#timeline [data-select]').first();
    const named = (await newest.getAttribute('data-select')) ?? '';
    expect(named).not.toBe('');
    await newest.click();
    await expect.poll(() => text('.detail-name')).toBe(named);
    await page.evaluate('window.scrollTo(0, 0)');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'visualizer-load.png'), fullPage: true });
  });

  it('in an outage: health down with the reason, partitions buffering, errors whole', async () => {
    stopLoad();
    for (const { id } of cluster.brokers) await cluster.brokerDown(id);
    // Records accepted during the outage wait.
    producer.produceAsync(
      TOPIC,
      Array.from({ length: 60 }, (_, i) => ({ value: `held ${i}`, partition: i % PARTITIONS })),
    );
    await expect
      .poll(() => page.locator('#health').getAttribute('data-state'), { timeout: 20_000 })
      .toBe('down');
    expect(await text('#health-why')).toMatch(/every broker connection is down \(3\)/);
    await expect
      .poll(() => page.locator(`[data-actor="partition:${TOPIC}:0"]`).getAttribute('data-state'), {
        timeout: 20_000,
      })
      .toBe('buffering');
    await expect
      .poll(() => text(`[data-chart="topic:${TOPIC}"] .spark-extra`), { timeout: 10_000 })
      .toMatch(/buffered [1-9]/);
    // A broker card's error, whole: nothing of it hidden past the card's edge.
    const error = page.locator('[data-actor="broker:1"] .error');
    await expect.poll(() => error.isVisible(), { timeout: 20_000 }).toBe(true);
    const clipped = await error.evaluate(
      (e: { scrollWidth: number; clientWidth: number }) => e.scrollWidth > e.clientWidth + 1,
    );
    expect(clipped).toBe(false);
    // The partitions' "Last error" column wraps inside the table's width (no side scrolling).
    const table = page.locator(`section[data-topic="${TOPIC}"] .table-wrap`);
    await expect
      .poll(() => page.locator(`[data-actor="partition:${TOPIC}:0"] td.error-cell`).innerText(), {
        timeout: 20_000,
      })
      .toMatch(/^ERR_CONNECTION/);
    const { wide, room } = await table.evaluate((e: { scrollWidth: number; clientWidth: number }) => ({
      wide: e.scrollWidth,
      room: e.clientWidth,
    }));
    expect(wide, `the table is ${wide} px wide in ${room}`).toBeLessThanOrEqual(room + 1);
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(ARTIFACTS, 'visualizer-outage.png'), fullPage: true });

    for (const { id } of cluster.brokers) await cluster.brokerUp(id);
    await expect
      .poll(() => page.locator('#health').getAttribute('data-state'), { timeout: 30_000 })
      .toBe('ok');
    expect(pageErrors).toEqual([]);
  });
});

if (!hasChromium) {
  describe('the operator’s live view, in Chromium', () => {
    it.skip(`skipped: needs ${CHROMIUM} (apt-get install -y chromium)`, () => undefined);
  });
}
