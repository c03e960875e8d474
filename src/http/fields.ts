// A request's header fields as Node received them: hono's adapter joins a field sent twice into
// one value (`a, b`), and the joined value cannot tell two fields from one holding a comma.

import type { Context } from "hono";
import type { IncomingMessage } from "node:http";

/** How many fields named `name` (lower case) the request carries; 0 when not served by Node (app.request()). */
export function fieldCount(incoming: IncomingMessage | undefined, name: string): number {
  const raw = incoming?.rawHeaders ?? [];
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) n++;
  return n;
}

/** The Node request behind a hono context (its adapter's `env.incoming`); undefined for app.request(). */
export function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}
