/** The gateway's routes the page reads, and the shapes of their answers (the server's own types). */
import type { ProducerEvents } from '../../../events.js';
import type { ActorSnapshot, ActorSnapshotOf } from '../../../runtime/runtime.js';
import type { VisualizedMachine } from '../../visualizer.js';
import type { SeriesSample } from '../../live-series.js';
import type { Transition } from '../../transition-log.js';

export type { ActorSnapshot, ActorSnapshotOf, SeriesSample, Transition, VisualizedMachine };

/** `event: state` of `GET /api/actors/stream`. */
export type StateEvent = Parameters<ProducerEvents['state']>[0];

/** The one error shape of every route. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** A route's answer that was not 2xx. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function getJSON(url: string): Promise<unknown> {
  const response = await fetch(url, { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!response.ok) {
    const body = (await response.json().catch(() => undefined)) as unknown;
    throw new ApiError(
      response.status,
      isErrorBody(body) ? body.error.message : `${url}: HTTP ${response.status}`,
    );
  }
  return (await response.json()) as unknown;
}

/** The actors of `GET /api/actors` or of an `event: snapshot` (anything else: none). */
export function actorList(body: unknown): ActorSnapshot[] {
  if (!Array.isArray(body)) return [];
  return body.filter(
    (item: unknown): item is ActorSnapshot =>
      typeof item === 'object' && item !== null && typeof (item as { name?: unknown }).name === 'string',
  );
}

export function isStateEvent(body: unknown): body is StateEvent {
  return typeof body === 'object' && body !== null && typeof (body as { actor?: unknown }).actor === 'string';
}

export function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== 'object' || body === null) return false;
  const error = (body as { error?: unknown }).error;
  return typeof error === 'object' && error !== null;
}
