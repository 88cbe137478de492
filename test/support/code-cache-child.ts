// Loads a bundle through the code cache in a process of its own, for test/cli/code-cache.test.ts:
// V8 keeps what it compiled in memory, so a second load in the same process would never read
// the cache file. Usage: code-cache-child.ts <bundle> <cache dir> [call] [save]; prints
// {"status", "cacheFile", "marker", "work"} as JSON.
import { loadWithCodeCache } from '../../src/cli/code-cache.js';

const [bundle, dir, ...actions] = process.argv.slice(2);
const loaded = loadWithCodeCache(bundle as string, { dir: dir as string });
const work = actions.includes('call') ? (loaded.exports.work as (n: number) => number)(5) : null;
if (actions.includes('save')) loaded.save();
process.stdout.write(
  JSON.stringify({ status: loaded.status, cacheFile: loaded.cacheFile, marker: loaded.exports.marker, work }),
);
