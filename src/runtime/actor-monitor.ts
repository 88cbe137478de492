import type { EventEmitter } from 'eventemitter3';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { ActorIndex, ActorKind } from '../../machines/actor-index.js';
import { originalError, type ErrorSummary } from '../../machines/describe-error.js';
import type { Logger } from '../config.js';
import { EkafError, type EkafErrorCode } from '../errors.js';
import type { ProducerEvents } from '../events.js';

/** An event an actor received, for the visualizer. */
export interface ReceivedEvent {
  type: string;
  /** When (ms since epoch). */
  at: number;
}

/** How many received events are kept per actor. */
const RECENT_EVENTS = 8;

/**
 * Watches every actor of the producer through xstate's inspection API (the registry's actor
 * system reports each event and each new snapshot of every actor in it): reports each change of
 * top-level state as a `state` event, logs connection and metadata failures (and reports those
 * outside any produce call as `error` events), and keeps the last events each actor received.
 * Nothing here runs per record: the data path sends no events.
 */
export class ActorMonitor {
  private readonly states = new WeakMap<AnyActorRef, string>();
  private readonly received = new Map<string, ReceivedEvent[]>();

  constructor(
    private readonly index: ActorIndex,
    private readonly logger: Logger,
    private readonly events: Pick<EventEmitter<ProducerEvents>, 'emit'>,
  ) {}

  /** The last events `name` received, oldest first. */
  recentEvents(name: string): readonly ReceivedEvent[] {
    return this.received.get(name) ?? [];
  }

  /** Forgets an actor that left the registry. */
  forget(name: string): void {
    this.received.delete(name);
  }

  /**
   * A resting actor was started again in `state` (src/runtime/hibernation.ts): its first
   * snapshot is not its initial state, and a change from `state` is a transition to report.
   */
  resumed(ref: AnyActorRef, state: string): void {
    this.states.set(ref, state);
  }

  /**
   * A transition made without an actor (a worker born at rest in `ready`, see
   * topology-follower.ts): reported as the actor's would have been.
   */
  transitioned(name: string, kind: ActorKind, from: string, to: string, context: object): void {
    this.events.emit('state', { actor: name, kind, from, to });
    this.report(name, kind, from, to, context as Record<string, unknown>);
  }

  readonly inspect = (inspection: InspectionEvent): void => {
    const ref = inspection.actorRef as AnyActorRef;
    // Only the registry's own children: not the promises and callbacks they invoke.
    const name = ref.id;
    if (this.index.get(name) !== ref) return;
    if (inspection.type === '@xstate.event') {
      let list = this.received.get(name);
      if (list === undefined) this.received.set(name, (list = []));
      list.push({ type: inspection.event.type, at: Date.now() });
      if (list.length > RECENT_EVENTS) list.shift();
    } else if (inspection.type === '@xstate.snapshot') {
      const snapshot = inspection.snapshot as {
        value?: unknown;
        context?: Record<string, unknown>;
        status?: string;
        error?: unknown;
      };
      if (snapshot.status === 'error') {
        // The registry restarts it after a delay (RESTART_DELAY_MS); say so, with why.
        this.logger.error(`ekaf: ${name} failed and will be restarted`, { error: String(snapshot.error) });
        return;
      }
      const current = topState(snapshot.value);
      const previous = this.states.get(ref);
      this.states.set(ref, current);
      // The first snapshot is the initial state: no transition to report.
      if (previous === undefined || previous === current) return;
      const kind = this.index.entry(name)?.spec.kind;
      if (kind === undefined) return;
      this.transitioned(name, kind, previous, current, snapshot.context ?? {});
    }
  };

  /** Logs transitions, and reports failures outside any produce call as `error` events. */
  private report(
    name: string,
    kind: ActorKind,
    from: string,
    to: string,
    context: Record<string, unknown>,
  ): void {
    const { logger } = this;
    const lastError = context.lastError as ErrorSummary | null | undefined;
    logger.debug(`ekaf: ${name} ${from} -> ${to}`);
    if (kind === 'broker' && (to === 'retrying' || to === 'failed') && lastError) {
      logger.warn(`ekaf: ${name} connection failed: ${lastError.message}`, { attempts: context.attempts });
      if (to === 'failed') this.events.emit('error', asEkafError(lastError));
    } else if (kind === 'metadata' && to === 'backoff' && lastError) {
      logger.warn(`ekaf: metadata refresh failed: ${lastError.message}`, { attempts: context.attempts });
      // Once per failure streak, not on every retry.
      if (context.attempts === 1) this.events.emit('error', asEkafError(lastError));
    } else if (kind === 'partition' && (to === 'ready' || from === 'ready')) {
      logger.info(`ekaf: ${name} ${to}`, { leaderId: context.leaderId });
    }
  }
}

/** The error a machine recorded, as it was thrown (its class and fields), or rebuilt from its summary. */
export function asEkafError(summary: ErrorSummary): EkafError {
  const original = originalError(summary);
  return original instanceof EkafError
    ? original
    : new EkafError(summary.code as EkafErrorCode, summary.message, { cause: original });
}

/** A state value's top level ('buffering' for `{ buffering: 'waiting' }`). */
export function topState(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) return Object.keys(value)[0] ?? 'unknown';
  return 'unknown';
}
