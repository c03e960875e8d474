// A request's header fields as Node received them: hono's adapter joins a field sent twice into
// one value (`a, b`), and the joined value cannot tell two fields from one holding a comma.

import type { IncomingMessage } from "node:http";

/** How many fields named `name` (lower case) the request carries; 0 when not served by Node (app.request()). */
export function fieldCount(incoming: IncomingMessage | undefined, name: string): number {
  const raw = incoming?.rawHeaders ?? [];
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) n++;
  return n;
}
