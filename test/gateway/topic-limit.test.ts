// Issue 17's finding 3: any topic name in a URL made the producer hold a topic and its actors
// for good (1 000 POSTs to made-up topics: RSS 99 → 478 MB), and a refused PUT of topic settings
// still made the topic. Now a gateway writes at most maxTopics topics, admits a topic only with
// a request that passed every other check, and refused settings make nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, errorOf, startStack, type Stack } from './helpers.js';

const actorsOf = (stack: Stack, topic: string): string[] =>
  stack.producer
    .inspect()
    .map((actor) => actor.name)
    .filter((name) => name === `topic:${topic}` || name.startsWith(`partition:${topic}:`));

describe('the topics a gateway makes the producer hold', () => {
  let stack: Stack;
  let base: string;
  beforeAll(async () => {
    stack = await startStack({
      topics: ['t-1', 't-2', 't-3', 't-4'].map((name) => ({ name, partitions: 2 })),
      gateway: { maxTopics: 3 },
    });
    base = stack.gateway.url;
  }, 30_000);
  afterAll(async () => {
    await stack.stop();
  });

  it('a refused PUT of settings makes no topic, and takes no place in the limit', async () => {
    const refused = await call(base, '/api/topics/never-made/config', {
      method: 'PUT',
      body: JSON.stringify({ lingerMs: 5, noSuchSetting: 1 }),
      type: 'application/json',
    });
    expect(refused.status).toBe(400);
    expect(actorsOf(stack, 'never-made')).toEqual([]);
    expect(stack.producer.partitionCount('never-made')).toBe(-1);
    // A bad body to a new topic does not take a place either.
    const bad = await call(base, '/sync/t-9', { body: '{"value":', type: 'application/json' });
    expect(bad.status).toBe(400);
    expect(actorsOf(stack, 't-9')).toEqual([]);
  });

  it('writes at most maxTopics topics: one more gets 403 and no actor; the others go on', async () => {
    for (const topic of ['t-1', 't-2', 't-3']) {
      expect((await call(base, `/sync/${topic}`, { body: 'x', type: 'text/plain' })).status, topic).toBe(200);
    }
    const fourth = await call(base, '/sync/t-4', { body: 'x', type: 'text/plain' });
    expect(fourth.status).toBe(403);
    expect(errorOf(fourth).code).toBe('ERR_TOO_MANY_TOPICS');
    const config = await call(base, '/api/topics/t-4/config', {
      method: 'PUT',
      body: JSON.stringify({ lingerMs: 7 }),
      type: 'application/json',
    });
    expect(config.status).toBe(403);
    expect(actorsOf(stack, 't-4')).toEqual([]);
    expect((await call(base, '/sync/t-2', { body: 'again', type: 'text/plain' })).status).toBe(200);
    const settings = await call(base, '/api/topics/t-3/config', {
      method: 'PUT',
      body: JSON.stringify({ lingerMs: 7 }),
      type: 'application/json',
    });
    expect(settings.status).toBe(200);
  });
});
