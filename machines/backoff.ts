/**
 * Capped exponential backoff with jitter, shared by every machine that retries: the delay after
 * `attempts` consecutive failures (1-based) is base, 2·base, 4·base… up to `max`, then spread
 * by ±`jitter` (0.2 = ±20%) so that clients do not retry in lockstep.
 */
export function backoffDelay(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

export function jitteredBackoff(
  attempts: number,
  baseMs: number,
  maxMs: number,
  random: () => number,
  jitter = 0.2,
): number {
  return Math.round(backoffDelay(attempts, baseMs, maxMs) * (1 + jitter * (2 * random() - 1)));
}
