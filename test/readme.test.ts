import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { README_PATH, readmeSection, renderDiagrams } from '../scripts/diagrams.js';
import { PRODUCER_DEFAULTS, TOPIC_DEFAULTS } from '../src/config.js';
import { PARTITIONER_NAMES } from '../src/runtime/partitioners.js';

/**
 * The README documents the code: its state diagrams are generated from the machines, and every
 * option, event, error code and partitioner must appear in its tables. These tests fail when
 * someone changes one without the other.
 */

const readme = readFileSync(README_PATH, 'utf8');
const source = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

/** The text of the `## heading` section, up to the next `## ` heading. */
function section(heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start === -1) throw new Error(`README.md has no "## ${heading}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** Every `code` span in the first column of the tables of a section. */
function firstColumn(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const cell = /^\|([^|]*)\|/.exec(line)?.[1];
    if (cell === undefined) continue;
    for (const match of cell.matchAll(/`([^`]+)`/g)) names.add(match[1] as string);
  }
  return names;
}

/** The top-level member names of `export interface <name> { … }` in a source file. */
function interfaceKeys(text: string, name: string): string[] {
  const start = text.indexOf(`export interface ${name} {`);
  if (start === -1) throw new Error(`interface ${name} not found`);
  const end = text.indexOf('\n}', start);
  const body = text.slice(start, end);
  return [...body.matchAll(/^ {2}'?([\w.]+)'?\??:/gm)].map((match) => match[1] as string);
}

function missing(expected: Iterable<string>, documented: Set<string>): string[] {
  return [...new Set(expected)].filter((name) => !documented.has(name));
}

describe('README.md', () => {
  it('has the state diagrams the machines generate now', async () => {
    const current = readmeSection(readme);
    expect(current, 'README.md lacks the <!-- diagrams:start --> … <!-- diagrams:end --> markers').not.toBe(
      null,
    );
    expect(current, 'The README state diagrams are stale: run `npm run diagrams`').toBe(
      await renderDiagrams(),
    );
  });

  it('documents every option in the options tables', () => {
    const config = source('src/config.ts');
    const options = [
      ...Object.keys(PRODUCER_DEFAULTS),
      ...Object.keys(TOPIC_DEFAULTS),
      ...interfaceKeys(config, 'ProducerOptions'),
      ...interfaceKeys(config, 'TopicSettings'),
      ...interfaceKeys(config, 'SpoolOption'),
    ];
    expect(options.length).toBeGreaterThan(20);
    expect(
      missing(options, firstColumn(section('Options'))),
      'options missing from README ## Options',
    ).toEqual([]);
  });

  it('documents every event in the events table', () => {
    const events = interfaceKeys(source('src/events.ts'), 'ProducerEvents');
    expect(events.length).toBeGreaterThanOrEqual(14);
    expect(missing(events, firstColumn(section('Events'))), 'events missing from README ## Events').toEqual(
      [],
    );
  });

  it('documents every error code and error class', () => {
    const errors = source('src/errors.ts');
    const union = /export type EkafErrorCode =([^;]*);/.exec(errors)?.[1] ?? '';
    const codes = [...union.matchAll(/'(ERR_[A-Z_]+)'/g)].map((match) => match[1] as string);
    const classes = [...errors.matchAll(/^export class (\w+)/gm)].map((match) => match[1] as string);
    expect(codes.length).toBeGreaterThan(10);
    expect(classes.length).toBeGreaterThan(10);
    const table = section('Errors');
    const documented = new Set([...table.matchAll(/`([^`]+)`/g)].map((match) => match[1] as string));
    expect(missing(codes, documented), 'error codes missing from README ## Errors').toEqual([]);
    expect(missing(classes, firstColumn(table)), 'error classes missing from README ## Errors').toEqual([]);
  });

  it('documents every partitioner', () => {
    expect(
      missing(PARTITIONER_NAMES, firstColumn(section('Partitioners'))),
      'partitioners missing from README ## Partitioners',
    ).toEqual([]);
  });
});
