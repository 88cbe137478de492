/**
 * The visualizer's page, script and style sheet. Their sources are real files under ./browser/:
 * index.html, TypeScript modules (type-checked with the DOM's types by their own tsconfig.json,
 * and linted) and style.css. esbuild bundles the modules, from browser/main.ts, into one script.
 *
 * Where they come from:
 * - A build (`npm run build`, what the package ships): scripts/build-visualizer.ts bundles them
 *   into ./app/ next to this module's compiled file, and they are read from there.
 * - Source (tsx: `npm start`, `ekaf serve` from a clone, the tests): there is no ./app/ next to
 *   this file, so they are bundled here, in memory, once per process. A fresh clone needs no
 *   build step, and what a start serves is always the browser modules as they are.
 *
 * esbuild is a development dependency: a built package never loads it.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface VisualizerAssets {
  html: string;
  js: string;
  css: string;
}

/** The directory, next to this module's compiled file, that a build writes the assets to. */
export const BUILT_DIR = 'app';

/** The assets' file names, in BUILT_DIR (the page asks for `/assets/app.js` and `/assets/app.css`). */
const FILES: Readonly<Record<keyof VisualizerAssets, string>> = {
  html: 'index.html',
  js: 'app.js',
  css: 'app.css',
};

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** The built assets if this module was built with them; otherwise bundled from ./browser/. */
export async function loadAssets(here: string = HERE): Promise<VisualizerAssets> {
  const built = join(here, BUILT_DIR);
  if (existsSync(built)) return readAssets(built);
  return bundleAssets(join(here, 'browser'));
}

/** Bundles the page's script and style sheet from the sources in `sources` (./browser/). */
export async function bundleAssets(sources: string = join(HERE, 'browser')): Promise<VisualizerAssets> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [
      { in: join(sources, 'main.ts'), out: 'app' },
      { in: join(sources, 'style.css'), out: 'app' },
    ],
    outdir: join(sources, 'out'),
    // The bundle names its modules relative to this: the same bundle whatever the process's cwd.
    absWorkingDir: sources,
    write: false,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const output = (extension: string): string => {
    const file = result.outputFiles.find((candidate) => extname(candidate.path) === extension);
    if (file === undefined) throw new Error(`visualizer: esbuild wrote no ${extension} file`);
    return file.text;
  };
  return {
    html: await readFile(join(sources, FILES.html), 'utf8'),
    js: output('.js'),
    css: output('.css'),
  };
}

/** Writes `assets` into `dir` (what scripts/build-visualizer.ts does into dist/). */
export async function writeAssets(dir: string, assets: VisualizerAssets): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const key of Object.keys(FILES) as (keyof VisualizerAssets)[]) {
    await writeFile(join(dir, FILES[key]), assets[key]);
  }
}

async function readAssets(dir: string): Promise<VisualizerAssets> {
  const read = (key: keyof VisualizerAssets): Promise<string> => readFile(join(dir, FILES[key]), 'utf8');
  return { html: await read('html'), js: await read('js'), css: await read('css') };
}
