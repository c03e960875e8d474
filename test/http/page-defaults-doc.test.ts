// README's limits table gives each list's page size and its default: the defaults are the ones
// the routes' query schemas apply when a request names no `limit`.

import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { listDecisionsQuery, listObjectsQuery } from "../../src/contracts/http.ts";

const README = readFileSync("README.md", "utf8");

test.each([
  ["`GET /v1/objects`", listObjectsQuery],
  ["`GET /v1/objects/{id}/decisions`", listDecisionsQuery],
] as const)("README's row for a page of %s names its default limit", (route, schema) => {
  const row = README.split("\n").find((line) => line.startsWith(`| a page of ${route} `)) ?? "";
  expect(row).toContain(`\`limit\` ≤ 500 (default ${schema.parse({}).limit})`);
});
