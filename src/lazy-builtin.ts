import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A Node built-in module, loaded when first asked for. For the ones only some producers need:
 * node:tls (TLS connections) and node:crypto (SCRAM) take about 8 ms each to load on Node 24,
 * which every plaintext producer and every `ekaf produce` paid at start-up.
 */
export function lazyBuiltin(name: `node:${string}`): () => unknown {
  let loaded: unknown;
  return () => (loaded ??= require(name) as unknown);
}
