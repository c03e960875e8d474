// schemas/policy.schema.json against the server's own validation. Editors check rule files
// with the schema (docs/policy-authors.md), so a file it passes and `validatePolicy` refuses is
// a defect wherever JSON Schema can say what the server checks. Each case below is one such
// refusal, and both must refuse it; the valid policies of the repository and a few edge cases
// both must accept. ajv (2020-12, with formats) stands in for an editor.

import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { DURATION_PATTERN, MAX_DURATION_MS, parseDuration } from "../../src/core/durations.ts";
import { parsePath } from "../../src/core/paths.ts";
import { DURATION_SCHEMA_PATTERN, POLICY_SCHEMA_FILE } from "../../src/contracts/json-schema.ts";
import { PATH_SCHEMA_PATTERN } from "../../src/contracts/policy.ts";
import { validatePolicy } from "../../src/contracts/validate-policy.ts";

const ajv = new Ajv2020({ allErrors: true, strict: false });
// ajv-formats is CommonJS: `default` is the plugin whichever way the module is loaded.
formats.default(ajv);
const schemaAccepts = ajv.compile(JSON.parse(readFileSync(POLICY_SCHEMA_FILE, "utf8")) as object);

type Condition = Record<string, unknown>;
type Doc = { rules: { name: string; conditions: { all: Condition[] }; event: unknown }[]; [key: string]: unknown };
const base = (): Doc => ({
  name: "p",
  version: "1",
  rules: [
    {
      name: "r",
      conditions: { all: [{ fact: "memory", path: "$.a", operator: "equal", value: 1 }] },
      event: { type: "wake" },
    },
  ],
});
const cond0 = (d: Doc) => d.rules[0]!.conditions.all[0]!;
const comparing = (operator: string, value: unknown) => (d: Doc) => void Object.assign(cond0(d), { operator, value });
const event = (e: unknown) => (d: Doc) => void (d.rules[0]!.event = e);

const refused: [string, (d: Doc) => void][] = [
  ["the rule name timer:wake (Vigil's own)", (d) => void (d.rules[0]!.name = "timer:wake")],
  ["the rule name hold:lease (Vigil's own)", (d) => void (d.rules[0]!.name = "hold:lease")],
  [
    "a schedule event with both after and at",
    event({ type: "schedule", params: { name: "x", after: "PT1M", at: "2026-03-01T00:00:00Z" } }),
  ],
  ["a schedule event with neither after nor at", event({ type: "schedule", params: { name: "x" } })],
  ["a schedule event on the timer wake", event({ type: "schedule", params: { name: "wake", after: "PT1M" } })],
  ["a cancel of the timer hold", event({ type: "cancel", params: { name: "hold" } })],
  ["a cancel of the timer dwell", event({ type: "cancel", params: { name: "dwell" } })],
  [
    "dormancy with both wakeAfter and wakeAt",
    event({ type: "dormancy", params: { wakeAfter: "PT1M", wakeAt: "2026-03-01T00:00:00Z" } }),
  ],
  ["a schedule named dwell", (d) => void (d.schedules = [{ name: "dwell", cron: "* * * * *" }])],
  ["an empty timezone", (d) => void (d.schedules = [{ name: "s", cron: "* * * * *", timezone: "" }])],
  ["a cron of 4 fields", (d) => void (d.schedules = [{ name: "s", cron: "* * * *" }])],
  ["a cron of 7 fields", (d) => void (d.schedules = [{ name: "s", cron: "0 * * * * * 2026" }])],
  ["olderThan with a number", comparing("olderThan", 5)],
  ["within with a string that is no duration", comparing("within", "5 minutes")],
  ["someValue:olderThan with one duration", comparing("someValue:olderThan", "PT1M")],
  ["everyValue:within with a number in the list", comparing("everyValue:within", ["PT1M", 5])],
  ["in with a number", comparing("in", 5)],
  ["not:notIn with an object", comparing("not:notIn", { a: 1 })],
  ["someValue:in with a number in the list", comparing("someValue:in", [[1], 2])],
  ["someValue:equal with one value", comparing("someValue:equal", 1)],
  ["someValue:someValue:equal with a list of a number", comparing("someValue:someValue:equal", [1])],
  ["everyValue:not:someValue:someValue:equal with [[1]]", comparing("everyValue:not:someValue:someValue:equal", [[1]])],
  ["swap:swap:in with a number", comparing("swap:swap:in", 5)],
  ["not:swap:not:swap:notIn with an object", comparing("not:swap:not:swap:notIn", { a: 1 })],
  // Swaps among the other decorators: the first item reached throws, whatever the fact holds.
  ["someValue:swap:swap:in with [5]", comparing("someValue:swap:swap:in", [5])],
  ["swap:swap:someValue:equal with 1", comparing("swap:swap:someValue:equal", 1)],
  ["swap:not:swap:everyValue:notIn with [5]", comparing("swap:not:swap:everyValue:notIn", [5])],
  ["swap:someFact:swap:in with [5] (someFact goes through the value)", comparing("swap:someFact:swap:in", [5])],
  ["someValue:someValue:in with [[5]]", comparing("someValue:someValue:in", [[5]])],
  ["swap:swap:someValue:someValue:equal with [1]", comparing("swap:swap:someValue:someValue:equal", [1])],
  ["the path $..a", (d) => void (cond0(d).path = "$..a")],
  ["the path $.a[x]", (d) => void (cond0(d).path = "$.a[x]")],
  ['the path $["\\x"] (no JSON escape)', (d) => void (cond0(d).path = '$["\\x"]')],
  ["a fact reference to an unknown fact", comparing("equal", { fact: "bogus" })],
  ["a fact reference whose fact is no string", comparing("equal", { fact: 1 })],
  ["a fact reference with the path $..a", comparing("equal", { fact: "memory", path: "$..a" })],
  ["5 operator decorators", (d) => void (cond0(d).operator = "not:not:not:not:not:equal")],
  ["a shared condition named with the empty string", (d) => void (d.conditions = { "": { all: [] } })],
  ["a shared condition named constructor", (d) => void (d.conditions = { constructor: { all: [] } })],
  ["a __proto__ key in defaults", (d) => void (d.defaults = JSON.parse('{"__proto__": {"x": 1}}'))],
  ["a prototype key deep in defaults", (d) => void (d.defaults = { a: [{ b: { prototype: 1 } }] })],
  ["a constructor key in a comparison value", comparing("equal", { a: { constructor: 1 } })],
  ["a __proto__ key in a condition's params", (d) => void (cond0(d).params = JSON.parse('{"__proto__": 1}'))],
  ["the duration P99999W (past 100 years)", (d) => void (d.dwell = { minActive: "P99999W" })],
  ["the duration P36501D (past 100 years)", event({ type: "hold-active", params: { for: "P36501D" } })],
  ["the duration PT3153600001S (past 100 years)", event({ type: "dormancy", params: { wakeAfter: "PT3153600001S" } })],
];

const accepted: [string, (d: Doc) => void][] = [
  ["swap:olderThan with a number (the value is then the timestamp)", comparing("swap:olderThan", 5)],
  ["olderThan with a fact reference", comparing("olderThan", { fact: "now" })],
  ["someValue:within with a list of durations", comparing("someValue:within", ["PT1M", "P1D"])],
  ["in with a string (a substring test)", comparing("in", "abc")],
  ["swap:in with a number", comparing("swap:in", 5)],
  ["swap:swap:in with a list", comparing("swap:swap:in", [5])],
  ["someValue:swap:swap:in whose first item is a list", comparing("someValue:swap:swap:in", [["a"], 5])],
  ["swap:someFact:swap:in with a number (someFact passes it over)", comparing("swap:someFact:swap:in", 5)],
  [
    "swap:someValue:swap:in with a list of a number (someValue goes through the fact)",
    comparing("swap:someValue:swap:in", [5]),
  ],
  ["someValue:someValue:equal whose first item is a list", comparing("someValue:someValue:equal", [["a"], 2])],
  ["someValue:someFact:someValue:equal with a list of a number", comparing("someValue:someFact:someValue:equal", [1])],
  ["someValue:someValue:equal with an empty list", comparing("someValue:someValue:equal", [])],
  ["everyValue:notIn with lists and strings", comparing("everyValue:notIn", [[1], "ab"])],
  ["a fact reference with a path and more keys", comparing("equal", { fact: "memory", path: '$["a b"][0]', x: 1 })],
  ["4 operator decorators", (d) => void (cond0(d).operator = "not:not:someFact:not:equal")],
  ["the duration P5214W (within 100 years)", (d) => void (d.dwell = { minActive: "P5214W", minDormant: "P36500D" })],
  ["a quoted path with JSON escapes", (d) => void (cond0(d).path = '$["a\\"b\\u00e9\\n"].c-d[10]')],
  [
    "a schedule with a timezone and 6 fields",
    (d) => void (d.schedules = [{ name: "s", cron: " 0 0 9 * * mon-fri ", timezone: "Europe/Paris" }]),
  ],
];

describe("the generated schema refuses what the server refuses", () => {
  test.each(refused)("%s", (_, mutate) => {
    const doc = base();
    mutate(doc);
    expect(validatePolicy(doc, "p").valid).toBe(false);
    expect(schemaAccepts(doc)).toBe(false);
  });
});

describe("the generated schema accepts what the server accepts", () => {
  test("the base document", () => {
    expect(validatePolicy(base(), "p").valid).toBe(true);
    expect(schemaAccepts(base()), JSON.stringify(schemaAccepts.errors)).toBe(true);
  });

  test.each(accepted)("%s", (_, mutate) => {
    const doc = base();
    mutate(doc);
    const server = validatePolicy(doc, "p");
    if (!server.valid) expect.fail(JSON.stringify(server.errors));
    expect(schemaAccepts(doc), JSON.stringify(schemaAccepts.errors)).toBe(true);
  });

  const root = fileURLToPath(new URL("../../", import.meta.url));
  const files = ["rules", "docs/recipes/rules"].flatMap((dir) =>
    readdirSync(join(root, dir))
      .filter((f) => f.endsWith(".json"))
      .map((f) => `${dir}/${f}`),
  );

  test("there are policies in rules/ and docs/recipes/rules/", () => {
    expect(files.length).toBeGreaterThanOrEqual(9);
  });

  test.each(files)("%s", (file) => {
    const doc: unknown = JSON.parse(readFileSync(join(root, file), "utf8"));
    const server = validatePolicy(doc, basename(file, ".json"));
    if (!server.valid) expect.fail(JSON.stringify(server.errors));
    expect(schemaAccepts(doc), JSON.stringify(schemaAccepts.errors)).toBe(true);
  });
});

// The schema's rules on a comparison's value follow the operator's decorators (json-schema.ts):
// for every operator of up to four, on a value of each shape they look at, it refuses nothing
// the server takes.
test("the schema refuses no comparison the server accepts, whatever the decorators", () => {
  const decorators = ["someFact", "someValue", "everyFact", "everyValue", "swap", "not"];
  const chains: string[][] = [[]];
  for (const chain of chains) if (chain.length < 4) for (const d of decorators) chains.push([...chain, d]);
  const values: unknown[] = [5, "ab", [], [5], ["a"], [[5]], [["a"]], [["a"], 5], [[[5]]]];
  const overRefused: string[] = [];
  for (const operator of chains.flatMap((chain) => ["in", "equal"].map((b) => [...chain, b].join(":"))))
    for (const value of values) {
      const doc = base();
      comparing(operator, value)(doc);
      if (!schemaAccepts(doc) && validatePolicy(doc, "p").valid)
        overRefused.push(`${operator} ${JSON.stringify(value)}`);
    }
  expect(chains).toHaveLength(1555);
  expect(overRefused).toEqual([]);
});

// Two patterns restate a grammar whose parser is the authority. JSON Schema patterns are
// ECMAScript regular expressions with the u flag, as ajv compiles them.
describe("the schema's patterns and the parsers", () => {
  const matcher = (pattern: string) => {
    const re = new RegExp(pattern, "u");
    return (s: string) => re.test(s);
  };

  test("a path matches the pattern exactly when parsePath reads it", () => {
    const isPath = matcher(PATH_SCHEMA_PATTERN);
    for (const p of ["$", "$.a", "$.a_b-c$[0]", '$["odd key"]', '$["\\u00e9\\n\\"\\\\"].x'])
      expect(isPath(p), p).toBe(true);
    // Pieces of the grammar and what breaks it: JSON escapes and what JSON refuses in a string.
    const piece = fc.constantFrom(
      ...'. [ ] [" "] " \\ \\u a _ - $ 0 12 00e9 n x'.split(" "),
      " ",
      "\n",
      "\u0001",
      "é",
      "\ud800",
    );
    const path = fc.tuple(fc.constantFrom("$", "$", "$", ""), fc.array(piece, { maxLength: 12 }));
    fc.assert(
      fc.property(path, ([start, pieces]) => {
        const p = start + pieces.join("");
        expect(isPath(p), JSON.stringify(p)).toBe(parsePath(p) !== null);
      }),
      { numRuns: 20_000 },
    );
  });

  test("a duration the server takes matches the pattern, and one with a part past 100 years by itself does not", () => {
    const bounded = matcher(DURATION_SCHEMA_PATTERN);
    const grammar = matcher(DURATION_PATTERN.source);
    const UNITS = { W: 7 * 86_400_000, D: 86_400_000, H: 3_600_000, M: 60_000, S: 1_000 } as const;
    const whole = (unit: keyof typeof UNITS) => {
      const max = Math.floor(MAX_DURATION_MS / UNITS[unit]);
      return fc.oneof(fc.nat(99), fc.nat(max * 2), fc.constantFrom(max - 1, max, max + 1, max * 10));
    };
    const part = (unit: keyof typeof UNITS) =>
      fc.option(
        fc.record({
          zeros: fc.constantFrom("", "0", "00"),
          whole: whole(unit),
          fraction: fc.constantFrom("", ".5", ".0"),
        }),
      );
    const duration = fc.record({ W: part("W"), D: part("D"), H: part("H"), M: part("M"), S: part("S") });
    fc.assert(
      fc.property(duration, (parts) => {
        const text = (u: keyof typeof UNITS) => {
          const p = parts[u];
          return p ? `${p.zeros}${p.whole}${p.fraction}${u}` : "";
        };
        const time = text("H") + text("M") + text("S");
        const s = `P${text("W")}${text("D")}${time ? `T${time}` : ""}`;
        if (parseDuration(s) !== null) expect(bounded(s), s).toBe(true);
        if (bounded(s)) expect(grammar(s), s).toBe(true);
        const tooLong = (Object.keys(UNITS) as (keyof typeof UNITS)[]).some(
          (u) => (parts[u]?.whole ?? 0) * UNITS[u] > MAX_DURATION_MS,
        );
        if (tooLong) expect(bounded(s), s).toBe(false);
      }),
      { numRuns: 20_000 },
    );
  });
});
