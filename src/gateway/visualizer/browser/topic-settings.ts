/**
 * A topic's settings form: `batchBytes`, `lingerMs` and `maxInFlight`, applied with
 * `PUT /api/topics/:topic/config`; the gateway's refusal is shown as it says it. Once applied,
 * the form dispatches `SETTINGS_APPLIED` (bubbling) so that the page polls at once.
 */
import { isErrorBody } from './api.js';
import { h, setText } from './dom.js';
import { fmt } from './format.js';
import type { Details } from './model.js';

export const SETTINGS_APPLIED = 'ekaf:settings-applied';

/** The settings the form edits: [key, label]. */
const EDITED = [
  ['batchBytes', 'Batch bytes'],
  ['lingerMs', 'Linger (ms)'],
  ['maxInFlight', 'Max in flight'],
] as const;

/** Settings shown, not edited. */
const SHOWN = ['acks', 'batchRecords', 'compression', 'partitioner'] as const;

type StatusKind = 'error' | 'ok' | 'info';

export interface SettingsForm {
  node: HTMLFormElement;
  /** Shows the topic's current settings (inputs being edited are left alone). */
  show(settings: Details | null): void;
}

export function settingsForm(topic: string): SettingsForm {
  const inputs: { key: string; label: string; input: HTMLInputElement }[] = [];
  const button = h('button', { type: 'submit', class: 'apply', text: 'Apply' });
  const status = h('output', { class: 'status', role: 'status', 'aria-live': 'polite' });
  const others = h('p', { class: 'other-settings' });
  const node = h('form', {
    class: 'settings',
    'data-topic-config': topic,
    novalidate: true,
    'aria-label': `Settings of topic ${topic}`,
  });
  const fields = h('div', { class: 'fields' });
  for (const [key, label] of EDITED) {
    const input = h('input', {
      name: key,
      type: 'number',
      inputmode: 'numeric',
      step: '1',
      min: '0',
      required: true,
    });
    input.addEventListener('input', () => {
      input.dataset.dirty = 'true';
    });
    inputs.push({ key, label, input });
    fields.append(h('label', { class: 'field' }, h('span', { text: label }), input));
  }
  fields.append(button);
  node.append(fields, others, status);
  let current: Details | null = null;

  const say = (text: string, kind: StatusKind): void => {
    status.dataset.kind = kind;
    setText(status, text);
  };

  const show = (settings: Details | null): void => {
    if (settings === null) return;
    current = settings;
    for (const { key, input } of inputs) {
      const value = settings[key];
      if (value === undefined || input.dataset.dirty !== undefined || document.activeElement === input)
        continue;
      const text = fmtInput(value);
      if (input.value !== text) input.value = text;
    }
    const rest = SHOWN.filter((key) => settings[key] !== undefined).map(
      (key) => `${key} ${fmt(settings[key])}`,
    );
    setText(others, rest.join(' · '));
  };

  const apply = async (): Promise<void> => {
    const change: Record<string, number> = {};
    for (const { key, label, input } of inputs) {
      const value = Number(input.value);
      if (input.value.trim() === '' || !Number.isFinite(value)) {
        say(`${label}: enter a number.`, 'error');
        input.focus();
        return;
      }
      if (current?.[key] !== value) change[key] = value;
    }
    if (Object.keys(change).length === 0) {
      say('Nothing to change.', 'info');
      return;
    }
    button.disabled = true;
    say('Applying…', 'info');
    try {
      const response = await fetch(`/api/topics/${encodeURIComponent(topic)}/config`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(change),
      });
      const payload = await response.json().then(
        (body: unknown) => body,
        () => null,
      );
      if (!response.ok || isErrorBody(payload)) {
        const error = isErrorBody(payload) ? payload.error : null;
        const message = error?.message ?? `HTTP ${response.status} ${response.statusText}`;
        say(`Refused: ${message}${error?.code ? ` (${error.code})` : ''}`, 'error');
        return;
      }
      const before = current;
      for (const { input } of inputs) delete input.dataset.dirty;
      if (typeof payload === 'object' && payload !== null) show(payload as Details);
      const changes = Object.entries(change).map(
        ([key, value]) => `${key} ${before === null ? '' : `${fmt(before[key])} → `}${fmt(value)}`,
      );
      say(`Applied: ${changes.join(', ')}`, 'ok');
      node.dispatchEvent(new CustomEvent(SETTINGS_APPLIED, { bubbles: true }));
    } catch (error) {
      say(`Could not reach the gateway: ${error instanceof Error ? error.message : String(error)}`, 'error');
    } finally {
      button.disabled = false;
    }
  };

  node.addEventListener('submit', (event) => {
    event.preventDefault();
    void apply();
  });

  return { node, show };
}

/** A setting as an input's value. */
function fmtInput(value: unknown): string {
  return typeof value === 'number' || typeof value === 'string' ? String(value) : '';
}
