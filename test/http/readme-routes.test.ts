// README's table of HTTP API v1 is where a client looks a route up: it names every route the
// OpenAPI document (and so the app) serves, with its method.

import { readFileSync } from "node:fs";
import { afterEach, beforeEach, expect, test } from "vitest";
import { setup, type Harness } from "./harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await setup();
});
afterEach(() => h.close());

const README = readFileSync("README.md", "utf8");
/** The first column of each row of the table under "## HTTP API v1". */
const TABLE = (() => {
  const section = README.slice(README.indexOf("\n## HTTP API v1\n"));
  const lines = section.split("\n");
  const start = lines.findIndex((line) => line.startsWith("| method and path"));
  const end = lines.findIndex((line, i) => i > start && !line.startsWith("|"));
  return lines.slice(start + 2, end).map((line) => line.split(/(?<!\\)\|/)[1] ?? "");
})();

test("README's API table names every route of the OpenAPI document", async () => {
  const doc = (await h.call("GET", "/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
  const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops)
      .filter((method) => method !== "parameters")
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
  expect(routes.length).toBeGreaterThan(20);
  const missing = routes.filter(
    (route) => !TABLE.some((cell) => cell.includes(`\`${route}\``) || cell.includes(`\`${route}?`)),
  );
  expect(missing).toEqual([]);
});
