/**
 * Draws one Mermaid state diagram per machine, from the machine definitions themselves, into
 * the README between `<!-- diagrams:start -->` and `<!-- diagrams:end -->`, so the pictures
 * cannot drift from the code.
 *
 *   npm run diagrams                 rewrites the README section
 *   tsx scripts/diagrams.ts --check  exits 1 if the README section is stale
 *
 * Every `machines/*.machine.ts` file is loaded and every exported xstate machine in it is
 * drawn by walking its `StateNode` tree: initial states, nested states, final states, `on`
 * transitions with their guards, `after` delays and invoke `onDone`/`onError`. The section is
 * formatted with the repository's prettier settings, so `prettier --write README.md` leaves it
 * unchanged.
 *
 * Notation (Mermaid's state-diagram grammar allows no ':' or ';' in a label):
 * - `event [guard]`: a transition; an inline guard function shows as `[guarded]`, the fallback
 *   after guarded candidates as `[else]`.
 * - `after <delay>`: a delayed transition, named after its `delays` entry.
 * - `done <src>` / `error <src>`: the invoked actor `src` finished / failed.
 * - A self-loop without `(re-enter)` changes no state (actions only); with it, the state is
 *   exited and entered again (its entry actions run).
 * - Transitions defined on the machine itself (handled in any state) are drawn from every
 *   top-level state that is not final and does not handle the event unconditionally itself.
 * - A machine without states is drawn as one state, `running`.
 */
import { readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format, resolveConfig } from 'prettier';
import {
  branchesOf,
  edgesOf,
  handlesUnconditionally,
  isMachine,
  type Edge,
  type MachineView,
  type NodeView,
} from '../machines/graph.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MACHINES_DIR = join(ROOT, 'machines');
export const README_PATH = join(ROOT, 'README.md');

export const START_MARKER = '<!-- diagrams:start -->';
export const END_MARKER = '<!-- diagrams:end -->';

/** Machines in the order of the actor tree; any other machine follows, by file name. */
const ORDER = ['registry', 'metadata', 'producer-identity', 'broker-connection', 'topic', 'partition-worker'];

// ------------------------------------------------------------------------------------------------
// Labels and identifiers

/** Words Mermaid's state-diagram lexer reads as keywords: such states get an alias. */
const RESERVED = new Set([
  'default',
  'state',
  'note',
  'class',
  'classdef',
  'direction',
  'end',
  'scale',
  'hide',
  'acctitle',
  'accdescr',
]);

/** Mermaid ids may not contain ':', '-', spaces or '{' (and are shared across composites). */
function mermaidId(node: NodeView): string {
  const id = node.path.join('_').replace(/[^A-Za-z0-9_]/g, '_');
  return RESERVED.has(id.toLowerCase()) ? `state_${id}` : id;
}

/** Mermaid ends a label at ':' or ';'. */
function label(text: string): string {
  return text.replace(/[:;#]/g, ' ').replace(/\s+/g, ' ').trim();
}

// ------------------------------------------------------------------------------------------------
// Drawing

/** Draws `edge` from the state `from` (a Mermaid id); `self` is where a targetless one loops. */
function drawEdge(edge: Edge, from: string, self: string, out: string[], indent: string): void {
  for (const branch of branchesOf(edge)) {
    const text = label(branch.text);
    if (branch.targets.length === 0) out.push(`${indent}${from} --> ${self}: ${text}`);
    for (const target of branch.targets) out.push(`${indent}${from} --> ${mermaidId(target)}: ${text}`);
  }
}

/** Declares the states of `node` (children of a compound or parallel node) and their edges. */
function drawChildren(node: NodeView, out: string[], indent: string): void {
  const children = Object.values(node.states);
  const regions = node.type === 'parallel';
  if (!regions) {
    for (const target of node.initial?.target ?? []) out.push(`${indent}[*] --> ${mermaidId(target)}`);
  }
  children.forEach((child, i) => {
    if (regions && i > 0) out.push(`${indent}--`);
    if (regions) out.push(`${indent}[*] --> ${mermaidId(child)}`);
    drawState(child, out, indent);
  });
  for (const child of children) {
    const id = mermaidId(child);
    for (const edge of edgesOf(child)) drawEdge(edge, id, id, out, indent);
    if (child.type === 'final') out.push(`${indent}${id} --> [*]`);
  }
}

function drawState(node: NodeView, out: string[], indent: string): void {
  const id = mermaidId(node);
  const nested = Object.keys(node.states).length > 0;
  if (!nested) {
    if (id !== node.key) out.push(`${indent}state "${node.key}" as ${id}`);
    return;
  }
  out.push(id === node.key ? `${indent}state ${id} {` : `${indent}state "${node.key}" as ${id} {`);
  drawChildren(node, out, `${indent}  `);
  out.push(`${indent}}`);
}

/** The Mermaid source of one machine's diagram. */
export function renderMachine(machine: MachineView): string {
  const root = machine.root;
  const out = ['stateDiagram-v2'];
  const children = Object.values(root.states);
  if (children.length === 0) {
    out.push('  [*] --> running');
    for (const edge of edgesOf(root)) drawEdge(edge, 'running', 'running', out, '  ');
    return out.join('\n');
  }
  drawChildren(root, out, '  ');
  // Transitions of the machine itself apply in every state that does not handle the event.
  for (const edge of edgesOf(root)) {
    for (const child of children) {
      if (child.type === 'final' || handlesUnconditionally(child, edge.candidates[0]?.eventType ?? '')) {
        continue;
      }
      drawEdge(edge, mermaidId(child), mermaidId(child), out, '  ');
    }
  }
  return out.join('\n');
}

// ------------------------------------------------------------------------------------------------
// Machines and their descriptions

export interface MachineFile {
  /** The file's name without `.machine.ts`, e.g. `partition-worker`. */
  name: string;
  /** Path from the repository root. */
  path: string;
  /** The first paragraph of the file's first doc comment, on one line (and its list: see topDocComment). */
  description: string;
  machines: MachineView[];
}

/**
 * The first paragraph of the first `/** … *\/` comment of a source file, on one line. A paragraph
 * that ends with a colon announces the list after it (`… keeps it:` then `- \`ready\`: …`): the
 * list comes too, as Markdown, an item a line.
 */
export function topDocComment(source: string): string {
  const match = /\/\*\*([\s\S]*?)\*\//.exec(source);
  if (match === null) return '';
  const lines = (match[1] ?? '').split('\n').map((line) => line.replace(/^\s*\* ?/, '').trim());
  // The comment's first two blocks of lines (blank lines apart).
  const blocks: string[][] = [];
  let block: string[] = [];
  for (const line of lines) {
    if (line !== '') {
      block.push(line);
      continue;
    }
    if (block.length > 0) blocks.push(block);
    block = [];
    if (blocks.length === 2) break;
  }
  if (block.length > 0 && blocks.length < 2) blocks.push(block);
  const [paragraph = [], next = []] = blocks;
  const text = paragraph.join(' ');
  if (!text.endsWith(':') || !next[0]?.startsWith('- ')) return text;
  // An item's continuation lines join it.
  const items = next
    .join('\n')
    .split(/\n(?=- )/)
    .map((item) => item.replace(/\n/g, ' '));
  return `${text}\n\n${items.join('\n')}`;
}

export async function loadMachines(): Promise<MachineFile[]> {
  const files = readdirSync(MACHINES_DIR)
    .filter((file) => file.endsWith('.machine.ts'))
    .map((file) => ({ file, name: basename(file, '.machine.ts') }))
    .sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
  const loaded: MachineFile[] = [];
  for (const { file, name } of files) {
    const full = join(MACHINES_DIR, file);
    const module: unknown = await import(pathToFileURL(full).href);
    const machines = Object.values(module as Record<string, unknown>).filter(isMachine);
    if (machines.length === 0) continue;
    loaded.push({
      name,
      path: relative(ROOT, full).split('\\').join('/'),
      description: topDocComment(readFileSync(full, 'utf8')),
      machines: machines.sort((a, b) => a.id.localeCompare(b.id)),
    });
  }
  return loaded;
}

function rank(name: string): number {
  const index = ORDER.indexOf(name);
  return index === -1 ? ORDER.length : index;
}

// ------------------------------------------------------------------------------------------------
// The README section

/** The generated section (what goes between the markers), formatted as prettier would. */
export async function renderDiagrams(): Promise<string> {
  const parts = [
    '<!-- Generated from machines/*.machine.ts by `npm run diagrams` (scripts/diagrams.ts): do not edit by hand. -->',
  ];
  for (const file of await loadMachines()) {
    for (const machine of file.machines) {
      const title = file.machines.length === 1 ? file.name : `${file.name}: ${machine.id}`;
      parts.push(`### ${title}`);
      const description = file.description === '' ? '' : ` ${file.description}`;
      parts.push(`[\`${file.path}\`](${file.path}).${description}`);
      parts.push(['```mermaid', renderMachine(machine), '```'].join('\n'));
    }
  }
  const config = (await resolveConfig(README_PATH, { editorconfig: true })) ?? {};
  const formatted = await format(parts.join('\n\n'), { ...config, parser: 'markdown' });
  return formatted.trim();
}

/** What is between the markers in `readme`, trimmed; null when the markers are missing. */
export function readmeSection(readme: string): string | null {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start === -1 || end === -1 || end < start) return null;
  return readme.slice(start + START_MARKER.length, end).trim();
}

/** `readme` with `section` between the markers. */
export function replaceSection(readme: string, section: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`README.md has no "${START_MARKER}" … "${END_MARKER}" section`);
  }
  return `${readme.slice(0, start + START_MARKER.length)}\n\n${section}\n\n${readme.slice(end)}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const check = argv.includes('--check');
  const readme = readFileSync(README_PATH, 'utf8');
  const updated = replaceSection(readme, await renderDiagrams());
  if (check) {
    if (updated !== readme) {
      console.error('README.md: the state diagrams are stale; run `npm run diagrams`.');
      return 1;
    }
    console.log('README.md: the state diagrams are up to date.');
    return 0;
  }
  if (updated === readme) {
    console.log('README.md: the state diagrams were already up to date.');
  } else {
    writeFileSync(README_PATH, updated);
    console.log('README.md: state diagrams updated.');
  }
  return 0;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
