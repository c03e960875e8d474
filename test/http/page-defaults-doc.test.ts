// README's limits table gives each list's page size and its default: the defaults are the ones
// the routes' query schemas apply when a request names no `limit`.

import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { listDecisionsQuery, listObjectsQuery } from "../../src/contracts/http.ts";
import { STREAMS_RETRY_AFTER } from "../../src/http/sse.ts";

const README = readFileSync("README.md", "utf8");

test.each([
  ["`GET /v1/objects`", listObjectsQuery],
  ["`GET /v1/objects/{id}/decisions`", listDecisionsQuery],
] as const)("README's row for a page of %s names its default limit", (route, schema) => {
  const row = README.split("\n").find((line) => line.startsWith(`| a page of ${route} `)) ?? "";
  expect(row).toContain(`\`limit\` ≤ 500 (default ${schema.parse({}).limit})`);
});

// The bounds table ("Every input has a bound") has three columns: what, the limit, and what comes
// past it. A row that leaves one out renders with an empty cell, the answer a client gets lost in
// the limit's; its rows are the ones between its header and the first line that is not a row.
const BOUNDS = (() => {
  const lines = README.split("\n");
  const start = lines.findIndex((line) => /^\| what +\| limit +\| past it +\|$/.test(line));
  const end = lines.findIndex((line, i) => i > start && !line.startsWith("|"));
  return lines.slice(start + 2, end);
})();

test("README's bounds table gives every row a limit and what comes past it", () => {
  expect(BOUNDS.length).toBeGreaterThan(10);
  for (const row of BOUNDS) {
    const cells = row.split(/(?<!\\)\|/).slice(1, -1);
    expect(cells, row).toHaveLength(3);
    expect(
      cells.every((cell) => cell.trim() !== ""),
      row,
    ).toBe(true);
  }
});

test("README's row for event streams names the 503 and its Retry-After", () => {
  const row = BOUNDS.find((line) => line.startsWith("| open event streams")) ?? "";
  expect(row.split("|")[3]?.trim()).toBe(`503 with \`Retry-After: ${STREAMS_RETRY_AFTER}\``);
});
