// The live visualizer in a real browser (Debian's Chromium driven by playwright-core): the
// actor tree of a producer connected to a 3-broker mock cluster, live state changes when a
// broker goes down and comes back, and the per-topic settings form; and, on a page of its own,
// a transactional producer's transaction actor following a commit and an abort.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, hasChromium, launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { visualizerRoutes } from '../../src/gateway/visualizer.js';
import { startGateway, type Gateway } from '../../src/gateway/server.js';
import { createProducer, type Producer } from '../../src/producer.js';
import type { ActorSnapshot } from '../../src/runtime/runtime.js';
import { startCluster, type MockCluster } from '../broker/cluster.js';
import { actorNamed, ofKind } from '../../src/runtime/introspection.js';
import { ApiKey } from '../../src/protocol/api.js';
import { ErrorCode } from '../../src/protocol/error-codes.js';

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
const SCREENSHOT = join(ARTIFACTS, 'visualizer.png');
const TRANSACTION_SCREENSHOT = join(ARTIFACTS, 'visualizer-transaction.png');
/** The transactional producer's id (its page is another gateway's). */
const TRANSACTIONAL_ID = 'ekaf-visualizer-tx';
const TOPIC = 'viz';
const PARTITIONS = 6;
/** A topic with more partitions than the page shows expanded (24). */
const WIDE = 'wide';
const WIDE_PARTITIONS = 120;

/** The little of the page's globals the test uses (the tests are compiled without the DOM's types). */
interface InPage {
  document: { querySelector(selector: string): { getAttribute(name: string): string | null } | null };
  MutationObserver: new (callback: () => void) => {
    observe(node: unknown, options: { attributeFilter: string[] }): void;
  };
  seenStates: Record<string, string[]>;
}

describe('visualizer in Chromium', () => {
  let cluster: MockCluster;
  let producer: Producer;
  let gateway: Gateway;
  let browser: Browser;
  let page: Page;
  let spoolDir: string | undefined;
  // A transactional producer cannot have a spool: it has its own gateway and page.
  let txProducer: Producer;
  let txGateway: Gateway;
  let txPage: Page;

  const actors = async (url: string = gateway.url): Promise<ActorSnapshot[]> => {
    const response = await fetch(`${url}/api/actors`);
    return (await response.json()) as ActorSnapshot[];
  };
  const row = (name: string) => page.locator(`[data-actor="${name}"]`);
  const waitForState = async (name: string, test: (state: string) => boolean, what: string) => {
    await expect
      .poll(async () => test((await row(name).getAttribute('data-state')) ?? ''), {
        timeout: 20_000,
        interval: 100,
        message: `${name} ${what}`,
      })
      .toBe(true);
  };

  /** Chromium with the visualizer of `url` open; fails the test if the page throws. */
  const openPage = async (url: string): Promise<Page> => {
    const opened = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    const pageErrors: string[] = [];
    opened.on('pageerror', (error) => pageErrors.push(error.message));
    opened.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await opened.goto(`${url}/`);
    // Nothing the page does may throw.
    expect(pageErrors).toEqual([]);
    return opened;
  };

  beforeAll(async () => {
    if (!hasChromium) return;
    cluster = await startCluster({
      peer: '2.12',
      brokers: 3,
      topics: [
        { name: TOPIC, partitions: PARTITIONS },
        { name: WIDE, partitions: WIDE_PARTITIONS },
      ],
    });
    spoolDir = mkdtempSync(join(tmpdir(), 'ekaf-visualizer-spool-'));
    producer = createProducer({
      brokers: cluster.bootstrap,
      clientId: 'ekaf-visualizer-test',
      spool: { dir: spoolDir, mode: 'always' },
    });
    const records = Array.from({ length: PARTITIONS * 3 }, (_, i) => ({
      value: `record ${i}`,
      partition: i % PARTITIONS,
    }));
    await producer.produceSync(TOPIC, records);
    await producer.produceSync(WIDE, { value: 'one', partition: 7 });
    gateway = await startGateway({ producer, port: 0, extraRoutes: visualizerRoutes() });
    txProducer = createProducer({
      brokers: cluster.bootstrap,
      clientId: 'ekaf-visualizer-tx-test',
      transactionalId: TRANSACTIONAL_ID,
    });
    txGateway = await startGateway({ producer: txProducer, port: 0, extraRoutes: visualizerRoutes() });
    browser = await launchChromium();
    page = await openPage(gateway.url);
    txPage = await openPage(txGateway.url);
  });

  afterAll(async () => {
    // What beforeAll got to start (nothing without Chromium).
    await (browser as Browser | undefined)?.close();
    await (gateway as Gateway | undefined)?.close();
    await (txGateway as Gateway | undefined)?.close();
    await (producer as Producer | undefined)?.close({ timeoutMs: 5000 });
    await (txProducer as Producer | undefined)?.close({ timeoutMs: 5000 });
    await (cluster as MockCluster | undefined)?.stop();
    if (typeof spoolDir === 'string') rmSync(spoolDir, { recursive: true, force: true });
  });

  it.skipIf(!hasChromium)('shows the actor tree with every actor and its state', async () => {
    await waitForState('registry', (s) => s === 'running', 'running');
    await waitForState('metadata', (s) => s !== '', 'shown');
    for (const id of [1, 2, 3]) await waitForState(`broker:${id}`, (s) => s === 'ready', 'ready');
    await waitForState(`topic:${TOPIC}`, (s) => s === 'active', 'active');
    for (let p = 0; p < PARTITIONS; p++) {
      await waitForState(`partition:${TOPIC}:${p}`, (s) => s === 'ready', 'ready');
    }
    // The topic's state summary, and the counters of a partition (3 records acked each).
    await expect
      .poll(() => page.locator(`[data-actor="topic:${TOPIC}"] .summary`).innerText())
      .toContain(`${PARTITIONS} ready`);
    await expect
      .poll(() => row(`partition:${TOPIC}:0`).locator('td').nth(4).innerText(), { timeout: 5000 })
      .toBe('3');
    // registry, metadata, the producer identity, the spool, 3 brokers, 2 topics, their partitions
    expect(await page.locator('[data-actor]').count()).toBe(
      1 + 1 + 1 + 1 + 3 + 2 + PARTITIONS + WIDE_PARTITIONS,
    );
    await expect.poll(() => row('identity').getAttribute('data-state')).toBe('ready');
  });

  it.skipIf(!hasChromium)(
    'shows a kind of actor it has no place of its own for in a group titled from its machine',
    async () => {
      // The producer identity: nothing in the page names it; GET /api/machines does.
      await waitForState('identity', (s) => s === 'ready', 'ready');
      const group = page.locator('[data-kind-group="identity"]');
      await expect.poll(() => group.locator('h3').innerText()).toMatch(/^producer identity$/i);
      await row('identity').locator('button.name').click();
      const diagram = page.locator('.detail svg.machine');
      await expect.poll(() => diagram.locator('.state.active').getAttribute('data-state-node')).toBe('ready');
      expect(await diagram.locator('.state.active').getAttribute('data-tone')).toBe('good');
    },
  );

  it.skipIf(!hasChromium)(
    'shows the durable spool: idle once everything written ahead is acknowledged',
    async () => {
      await waitForState('spool', (s) => s === 'idle', 'idle');
      const card = row('spool');
      await expect.poll(() => card.innerText()).toMatch(/records\s+0/);
      expect(await card.innerText()).toMatch(/used\s+0\.\d MiB \/ 1024\.0 MiB/);
      await card.locator('button.name').click();
      await expect
        .poll(() => page.locator('#detail').innerText())
        .toContain('No machine definition for this actor.');
      expect(await page.locator('#detail').innerText()).toContain(spoolDir as string);
    },
  );

  it.skipIf(!hasChromium)('collapses a topic with many partitions, with its state summary', async () => {
    const wide = page.locator(`section[data-topic="${WIDE}"]`);
    const toggle = wide.locator('button.toggle');
    await expect.poll(() => toggle.getAttribute('aria-expanded')).toBe('false');
    await expect.poll(() => wide.locator('.summary').innerText()).toBe(`${WIDE_PARTITIONS} ready`);
    expect(await row(`partition:${WIDE}:7`).isVisible()).toBe(false);
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    expect(await row(`partition:${WIDE}:7`).isVisible()).toBe(true);
    await toggle.click();
    expect(await row(`partition:${WIDE}:7`).isVisible()).toBe(false);
  });

  it.skipIf(!hasChromium)('draws the selected actor’s machine with its current state', async () => {
    await row(`partition:${TOPIC}:0`).locator('button.name').click();
    const diagram = page.locator('.detail svg.machine');
    await expect.poll(() => diagram.count()).toBe(1);
    for (const state of ['connecting', 'ready', 'buffering', 'retrying']) {
      expect(await diagram.locator(`[data-state-node="${state}"]`).count()).toBe(1);
    }
    expect(await diagram.locator('.state.active').getAttribute('data-state-node')).toBe('ready');
  });

  it.skipIf(!hasChromium)('follows a broker going down and coming back', async () => {
    const partition = ofKind(await actors(), 'partition').find((a) =>
      a.name.startsWith(`partition:${TOPIC}:`),
    );
    if (partition === undefined) throw new Error('no partition worker');
    const leader = partition.details.leaderId;
    const broker = `broker:${leader}`;
    // Every data-state the page shows for the two rows, as it happens.
    await page.evaluate(
      ([names]) => {
        const inPage = globalThis as unknown as InPage;
        const seen: Record<string, string[]> = {};
        inPage.seenStates = seen;
        for (const name of names) {
          const node = inPage.document.querySelector(`[data-actor="${name}"]`);
          if (node === null) continue;
          seen[name] = [node.getAttribute('data-state') ?? ''];
          new inPage.MutationObserver(() => seen[name]?.push(node.getAttribute('data-state') ?? '')).observe(
            node,
            {
              attributeFilter: ['data-state'],
            },
          );
        }
      },
      [[broker, partition.name]] as const,
    );
    await row(partition.name).locator('button.name').click();

    await cluster.brokerDown(leader);
    await waitForState(broker, (s) => s !== 'ready', 'leaves ready when its broker is down');
    await waitForState(partition.name, (s) => s !== 'ready', 'leaves ready when its leader is down');
    // Records produced meanwhile wait in the partition's buffer.
    const delivered = producer.produceSync(TOPIC, {
      value: 'while down',
      partition: Number(partition.name.split(':')[2]),
    });
    await expect
      .poll(() => row(partition.name).locator('td').nth(2).innerText(), { timeout: 5000 })
      .toBe('1');
    // The diagram of the selected worker follows its state.
    await expect
      .poll(() => page.locator('.detail svg.machine .state.active').getAttribute('data-state-node'))
      .not.toBe('ready');

    await cluster.brokerUp(leader);
    await waitForState(broker, (s) => s === 'ready', 'is ready again');
    await waitForState(partition.name, (s) => s === 'ready', 'is ready again');
    await delivered;
    const seen = await page.evaluate(() => (globalThis as unknown as InPage).seenStates);
    expect(seen[broker]?.some((s) => s === 'retrying' || s === 'connecting')).toBe(true);
    expect(seen[partition.name]?.some((s) => s === 'buffering')).toBe(true);
  });

  it.skipIf(!hasChromium)('changes a topic’s settings from its form, and shows a refusal', async () => {
    const form = page.locator(`form[data-topic-config="${TOPIC}"]`);
    await form.getByLabel('Linger (ms)').fill('37');
    await form.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => form.locator('output').innerText()).toContain('Applied');
    const topic = actorNamed(await actors(), `topic:${TOPIC}` as const);
    expect((topic?.details.settings as { lingerMs?: number } | undefined)?.lingerMs).toBe(37);

    await form.getByLabel('Max in flight').fill('0');
    await form.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => form.locator('output').innerText()).toMatch(/^Refused: .*maxInFlight/);
    const after = actorNamed(await actors(), `topic:${TOPIC}` as const);
    expect((after?.details.settings as { maxInFlight?: number } | undefined)?.maxInFlight).toBe(5);
    await form.getByLabel('Max in flight').fill('5');
  });

  it.skipIf(!hasChromium)('filters actors by name or state', async () => {
    const filter = page.getByLabel('Filter');
    await filter.fill(`partition:${TOPIC}:1`);
    await expect.poll(() => row(`partition:${TOPIC}:2`).isVisible()).toBe(false);
    expect(await row(`partition:${TOPIC}:1`).isVisible()).toBe(true);
    expect(await row('broker:1').isVisible()).toBe(false);
    await filter.fill('ready');
    await expect.poll(() => row(`partition:${TOPIC}:2`).isVisible()).toBe(true);
    await filter.fill('');
    await expect.poll(() => row('broker:1').isVisible()).toBe(true);
  });

  it.skipIf(!hasChromium)(
    'shows a transactional producer’s transaction actor in its own group, live through a commit and an abort',
    async () => {
      const card = txPage.locator('[data-actor="transaction"]');
      const stat = (label: string) =>
        card
          .locator('.stats > div')
          .filter({ has: txPage.locator('dt', { hasText: new RegExp(`^${label}$`) }) })
          .locator('dd')
          .innerText();
      const group = txPage.locator('[data-kind-group="transaction"]');
      await expect.poll(() => group.locator('h3').innerText()).toMatch(/^transaction$/i);
      // Nothing asked yet: the first beginTransaction() initializes.
      await expect.poll(() => card.getAttribute('data-state')).toBe('uninitialized');
      expect(await stat('transactional id')).toBe(TRANSACTIONAL_ID);
      expect(await stat('protocol')).toBe('—');
      // State events as they come (the stream is live), every one the page shows.
      await expect.poll(() => txPage.locator('#conn').getAttribute('data-status')).toBe('live');
      await txPage.evaluate(() => {
        const inPage = globalThis as unknown as InPage;
        const node = inPage.document.querySelector('[data-actor="transaction"]');
        const seen = [node?.getAttribute('data-state') ?? ''];
        inPage.seenStates = { transaction: seen };
        new inPage.MutationObserver(() => seen.push(node?.getAttribute('data-state') ?? '')).observe(node, {
          attributeFilter: ['data-state'],
        });
      });

      // A transaction over two partitions, open: its number, its partitions, how long it is open.
      const tx = await txProducer.beginTransaction();
      await tx.produce(TOPIC, [
        { value: 'tx 1', partition: 0 },
        { value: 'tx 2', partition: 1 },
      ]);
      await expect.poll(() => card.getAttribute('data-state')).toBe('inTransaction');
      expect(await card.getAttribute('data-tone')).toBe('good');
      await expect.poll(() => stat('partitions'), { timeout: 5000 }).toBe('2');
      const details = actorNamed(await actors(txGateway.url), 'transaction')?.details;
      expect(details?.protocol).toBe('v1'); // librdkafka's mock: no transaction.version feature
      expect(await stat('protocol')).toBe('v1');
      expect(await stat('transaction')).toBe('#1');
      expect(await stat('producer id')).toBe(String(details?.producerId));
      expect(await stat('epoch')).toBe(String(details?.producerEpoch));
      expect(await stat('open for')).toMatch(/^\d+(\.\d)? m?s$/);

      await tx.commit();
      await expect.poll(() => card.getAttribute('data-state')).toBe('ready');
      await expect.poll(() => stat('committed'), { timeout: 5000 }).toBe('1');
      expect(await stat('open for')).toBe('—');
      const seen = (await txPage.evaluate(() => (globalThis as unknown as InPage).seenStates)).transaction;
      expect(seen?.join(' ')).toContain('ready inTransaction committing ready');

      // A record fails: the transaction must be aborted, and the card says so (a warning) and why.
      const failing = await txProducer.beginTransaction();
      await cluster.pushRequestErrors(ApiKey.Produce, [ErrorCode.INVALID_RECORD]);
      await expect(failing.produce(TOPIC, { value: 'refused', partition: 2 })).rejects.toMatchObject({
        code: 'ERR_KAFKA',
      });
      const badge = card.locator('.badge');
      await expect.poll(() => badge.innerText(), { timeout: 5000 }).toBe('inTransaction.abortable');
      expect(await card.getAttribute('data-state')).toBe('inTransaction');
      expect(await card.getAttribute('data-tone')).toBe('warn');
      const note = card.locator('.note');
      expect(await note.isVisible()).toBe(true);
      expect(await note.innerText()).toMatch(/^must abort: .*INVALID_RECORD/);
      // Its machine: inTransaction highlighted; commit is not a way out of abortable.
      await card.locator('button.name').click();
      const diagram = txPage.locator('.detail svg.machine');
      await expect
        .poll(() => diagram.locator('.state.active').getAttribute('data-state-node'))
        .toBe('inTransaction');
      expect(await txPage.locator('.detail-head .badge').innerText()).toBe('inTransaction.abortable');
      const leaving = await txPage.locator('.detail .leaving').innerText();
      expect(leaving).toContain('abort');
      expect(leaving).not.toMatch(/^commit\b/m);
      await expect(failing.commit()).rejects.toMatchObject({ code: 'ERR_TRANSACTION_ABORTABLE' });
      // The picture: a transaction that must be aborted, its machine beside it.
      await txPage.evaluate('window.scrollTo(0, 0)');
      await txPage.waitForTimeout(300);
      mkdirSync(dirname(TRANSACTION_SCREENSHOT), { recursive: true });
      await txPage.screenshot({ path: TRANSACTION_SCREENSHOT, fullPage: true });
      expect(existsSync(TRANSACTION_SCREENSHOT)).toBe(true);

      await failing.abort();
      await expect.poll(() => card.getAttribute('data-state')).toBe('ready');
      await expect.poll(() => stat('aborted'), { timeout: 5000 }).toBe('1');
      expect(await card.getAttribute('data-tone')).toBe('good');
      expect(await note.isVisible()).toBe(false);
      expect(await stat('transaction')).toBe('#2');
    },
  );

  it.skipIf(!hasChromium)('saves a screenshot', async () => {
    await row(`partition:${TOPIC}:0`).locator('button.name').click();
    // From the top: a full-page picture draws the sticky header where the page is scrolled to.
    await page.evaluate('window.scrollTo(0, 0)');
    await page.waitForTimeout(300);
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);
  });
});

// Without Chromium the tests above are skipped; this says why in the report.
if (!hasChromium) {
  describe('visualizer in Chromium', () => {
    it.skip(`skipped: needs ${CHROMIUM} (apt-get install -y chromium)`, () => undefined);
  });
}
