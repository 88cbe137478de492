/**
 * `npm run build`'s second step, after tsc: bundles the visualizer's page, script and style sheet
 * (src/gateway/visualizer/browser/) into dist/src/gateway/visualizer/app/, next to the compiled
 * assets module that reads them there (see src/gateway/visualizer/assets.ts). Run from source,
 * the gateway bundles them itself and needs no build.
 */
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILT_DIR, bundleAssets, writeAssets } from '../src/gateway/visualizer/assets.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(ROOT, 'dist', 'src', 'gateway', 'visualizer', BUILT_DIR);

const assets = await bundleAssets();
await writeAssets(target, assets);
const size = (text: string): string => `${Buffer.byteLength(text)} B`;
console.log(
  `visualizer: ${relative(ROOT, target)}/ (app.js ${size(assets.js)}, app.css ${size(assets.css)})`,
);
