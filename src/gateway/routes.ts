import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './errors.js';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The path's captured segments, URI-decoded (e.g. the topic). */
  params: string[];
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT';
  /** Anchored; each group captures one path segment. */
  pattern: RegExp;
  /** Names the route in metrics and logs (never the raw path: topics would explode labels). */
  name: string;
  handle(context: RouteContext): void | Promise<void>;
}

export type RouteMatch =
  | { kind: 'route'; route: Route; params: string[] }
  | { kind: 'wrong-method'; allow: string[] }
  | { kind: 'none' };

/** Finds the route for a request; a known path with another method gives the methods it has. */
export function matchRoute(routes: readonly Route[], method: string, path: string): RouteMatch {
  const allow: string[] = [];
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (match === null) continue;
    if (route.method !== method) {
      allow.push(route.method);
      continue;
    }
    return { kind: 'route', route, params: match.slice(1).map((segment) => decodeSegment(segment)) };
  }
  return allow.length > 0 ? { kind: 'wrong-method', allow } : { kind: 'none' };
}

function decodeSegment(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    throw new HttpError(400, 'ERR_BAD_REQUEST', `malformed percent-encoding in "${segment ?? ''}"`);
  }
}
