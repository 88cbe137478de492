/**
 * Capped exponential backoff with jitter, shared by every machine that retries: the delay after
 * `attempts` consecutive failures (1-based) is base, 2·base, 4·base… up to `max`, then spread
 * by ±`jitter` (0.2 = ±20%) so that clients do not retry in lockstep.
 */
export function backoffDelay(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

/** The longest delay Node's setTimeout honours (config's MAX_DURATION_MS; machines import no src/). */
const MAX_TIMER_MS = 2_147_483_647;

export function jitteredBackoff(
  attempts: number,
  baseMs: number,
  maxMs: number,
  random: () => number,
  jitter = 0.2,
): number {
  const delay = Math.round(backoffDelay(attempts, baseMs, maxMs) * (1 + jitter * (2 * random() - 1)));
  // Options allow a cap up to setTimeout's limit (2^31 - 1 ms); +20% past it would make Node
  // fire after 1 ms instead, so the jitter is cut there.
  return Math.min(delay, MAX_TIMER_MS);
}
