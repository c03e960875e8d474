// README's configuration table is the one place an operator reads the variables: it names every
// variable the server reads (configSchema) and no other, each with the default the server
// applies, and for a count, size or port the range it takes, refused past either end.

import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { configSchema, loadConfig } from "../../src/config.ts";
import { parseDuration } from "../../src/core/durations.ts";

const README = readFileSync("README.md", "utf8");
const section = README.slice(README.indexOf("\n## Configuration\n"));
/** The table's rows: variable name, default column, meaning column. */
const rows = new Map(
  [...section.matchAll(/^\| `([A-Z_]+)`\s*\|\s*([^|]*?)\s*\|\s*(.*?)\s*\|$/gm)].map((m) => [
    m[1]!,
    { dflt: m[2]!, meaning: m[3]! },
  ]),
);
const variables = Object.keys(configSchema.shape);
const defaults = loadConfig({}) as Record<string, unknown>;
const accepts = (key: string, value: string): boolean => {
  try {
    loadConfig({ [key]: value });
    return true;
  } catch {
    return false;
  }
};
/** The variables written in decimal digits: counts, sizes and the port. */
const whole = variables.filter((key) => {
  try {
    loadConfig({ [key]: "x" });
    return false;
  } catch (e) {
    return (e as Error).message.includes(`${key}: must be a whole number in decimal digits`);
  }
});

test("the table names every variable the server reads, and no other", () => {
  expect([...rows.keys()].sort()).toEqual([...variables].sort());
});

test.each(
  variables.filter(
    (key) => defaults[key] !== undefined && !["VIGIL_TOKENS", "VIGIL_DRIVERS", "VIGIL_FLY_API_URLS"].includes(key),
  ),
)("%s's row gives the default the server applies", (key) => {
  expect(rows.get(key)?.dflt).toBe(`\`${String(defaults[key])}\``);
});

test("the variables written in decimal digits are the counts, sizes and the port", () => {
  expect(whole.length).toBeGreaterThanOrEqual(7);
});

test.each(whole)("%s's row gives the range the server takes (MIN–MAX), and past it is refused", (key) => {
  const range = /(\d[\d,]*)–(\d[\d,]*)/.exec(rows.get(key)?.meaning ?? "");
  expect(range, `no MIN–MAX range in README's row for ${key}`).not.toBeNull();
  const [min, max] = [Number(range![1]!.replaceAll(",", "")), Number(range![2]!.replaceAll(",", ""))];
  expect(accepts(key, String(min))).toBe(true);
  expect(accepts(key, String(max))).toBe(true);
  if (min > 0) expect(accepts(key, String(min - 1))).toBe(false);
  expect(accepts(key, String(max + 1))).toBe(false);
});

// A duration's row says "at least `PT…`" where the server refuses a shorter one.
const shortest = variables.flatMap((key) => {
  const m = /at least `(P[^`]+)`/.exec(rows.get(key)?.meaning ?? "");
  return m ? [[key, m[1]!] as const] : [];
});

test("the durations with a least value are the retention windows, the idempotency TTL and reconciliation", () => {
  expect(shortest.map(([key]) => key).sort()).toEqual([
    "VIGIL_DECISION_RETENTION",
    "VIGIL_IDEMPOTENCY_TTL",
    "VIGIL_JOURNAL_RETENTION",
    "VIGIL_RECONCILE_INTERVAL",
  ]);
});

test.each(shortest)("%s takes %s and refuses a millisecond less", (key, least) => {
  const ms = parseDuration(least)!;
  expect(accepts(key, least)).toBe(true);
  expect(accepts(key, `PT${(ms - 1) / 1000}S`)).toBe(false);
});
