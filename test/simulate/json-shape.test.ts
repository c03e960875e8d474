// `vigil simulate --json` is for scripts: docs/simulate.md writes out every field it prints, and
// the shape written there is the one printed (a policy row, beside the baseline's, which has no
// `policy`). The page named `latencies` without its fields and rows without `name` and `kind`.

import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { runSimulateCli } from "./run-cli.ts";

/** A JSON value's shape as the docs write it: keys in order, arrays as one item of all their keys, `?` for a key some items lack. */
function shape(value: unknown): string {
  if (Array.isArray(value)) {
    const items = value.filter((v) => v !== null && typeof v === "object" && !Array.isArray(v)) as Record<
      string,
      unknown
    >[];
    const keys: string[] = [];
    for (const item of items) for (const k of Object.keys(item)) if (!keys.includes(k)) keys.push(k);
    const merged = keys.map((k) => {
      const having = items.filter((i) => k in i);
      const optional = having.length < items.length ? "?" : "";
      const inner = having.find((i) => i[k] !== null && typeof i[k] === "object");
      return inner ? `${k}${optional}: ${shape(inner[k])}` : `${k}${optional}`;
    });
    return `[{${merged.join(", ")}}]`;
  }
  const fields = Object.entries(value as Record<string, unknown>).map(([k, v]) =>
    v !== null && typeof v === "object" ? `${k}: ${shape(v)}` : k,
  );
  return `{${fields.join(", ")}}`;
}

test("the --json figures have the shape docs/simulate.md writes out", async () => {
  const r = await runSimulateCli([
    "--policy",
    "on-demand",
    "--traffic",
    "fixtures/traffic/queue-burst.jsonl",
    "--autostop-after",
    "PT5M",
    "--json",
  ]);
  expect(r.code).toBe(0);
  const printed = shape(JSON.parse(r.stdout));
  expect(printed).toContain("latencies: {startSeconds, resumeSeconds}");
  const page = readFileSync("docs/simulate.md", "utf8");
  const block = /`--json` prints:\n\n```text\n([^`]+)```/.exec(page)?.[1];
  expect(block?.replace(/\s+/g, " ").trim()).toBe(printed);
});
