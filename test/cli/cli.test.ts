// The CLI as a user meets it: `vigil validate`, `vigil replay`, `vigil schema`, and the
// checked-in JSON Schema staying in step with the zod schema.

import { execFileSync, spawnSync } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { runReplay } from "../../src/cli/replay.ts";
import { runTest } from "../../src/cli/test.ts";
import { runValidate } from "../../src/cli/validate.ts";
import { POLICY_SCHEMA_FILE, policyJsonSchemaText } from "../../src/contracts/json-schema.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, RULES_DIR } from "../helpers/services.ts";
import { capture } from "./harness.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("schemas/policy.schema.json", () => {
  test("is exactly what the zod schema generates (run `npm run schemas` after changing it)", () => {
    expect(readFileSync(POLICY_SCHEMA_FILE, "utf8")).toBe(policyJsonSchemaText());
  });

  test("the example policies point editors at it", () => {
    for (const f of ["queue-worker", "continuous-monitor", "nightly-report"]) {
      const doc = JSON.parse(readFileSync(join(RULES_DIR, `${f}.json`), "utf8")) as { $schema: string };
      expect(doc.$schema).toBe("../schemas/policy.schema.json");
    }
  });
});

describe("vigil validate", () => {
  test("exit 0 for the example policies", async () => {
    const { code, out } = await capture((o) => runValidate(["--rules", RULES_DIR], o));
    expect(code).toBe(0);
    const files = readdirSync(RULES_DIR).filter((f) => f.endsWith(".json")).length;
    expect(files).toBeGreaterThanOrEqual(3);
    expect(out).toContain(`${files} valid, 0 invalid`);
  });

  test("hidden files in the directory (an editor's .#name.json lock) are no policies, as for the server", async () => {
    const rules = join(dir, "hidden-rules");
    mkdirSync(rules);
    copyFileSync(join(RULES_DIR, "queue-worker.json"), join(rules, "queue-worker.json"));
    symlinkSync("user@host.1234:1700000000", join(rules, ".#queue-worker.json"));
    const { code, out } = await capture((o) => runValidate(["--rules", rules], o));
    expect(out).not.toContain(".#queue-worker.json");
    expect(code).toBe(0);
  });

  test("exit 1 naming the file and the JSON path of each error", async () => {
    const file = join(dir, "broken.json");
    writeFileSync(
      file,
      JSON.stringify({
        name: "broken",
        version: "1",
        rules: [
          { name: "r", conditions: { all: [{ fact: "memry", operator: "equal", value: 1 }] }, event: { type: "wake" } },
        ],
      }),
    );
    const { code, out } = await capture((o) => runValidate([file], o));
    expect(code).toBe(1);
    expect(out).toContain(`${file} $.rules[0].conditions.all[0].fact: unknown fact "memry"`);
  });

  test("a syntax error names line and column", async () => {
    const file = join(dir, "syntax.json");
    writeFileSync(file, '{\n  "name": "syntax",\n  "version": 1,,\n}');
    const { code, out } = await capture((o) => runValidate([file], o));
    expect(code).toBe(1);
    expect(out).toMatch(/syntax\.json \$: not valid JSON \(line 3, column \d+\)/);
  });

  test("through the real binary: npx vigil validate", () => {
    const ok = spawnSync(process.execPath, ["bin/vigil.js", "validate"], { encoding: "utf8" });
    expect(ok.status).toBe(0);
    const bad = spawnSync(process.execPath, ["bin/vigil.js", "validate", join(dir, "broken.json")], {
      encoding: "utf8",
    });
    expect(bad.status).toBe(1);
  });
});

describe("vigil replay", () => {
  test("exit 0 with no difference, 1 with differences side by side, 2 for an unknown object", async () => {
    const url = `file:${join(dir, "replay.db")}`;
    const s = await makeServices({ store: new LibsqlStore({ url }) });
    await s.governor.putObject("w", { policy: "queue-worker" });
    await s.governor.postFacts("w", { queue: { depth: 1 } });
    await s.advance(60_000);
    await s.close();

    const same = join(RULES_DIR, "queue-worker.json");
    expect((await capture((o) => runReplay(["--db", url, "--object", "w", same], o))).code).toBe(0);

    const candidate = JSON.parse(readFileSync(same, "utf8")) as {
      rules: { conditions: { all: { value: number }[] } }[];
    };
    candidate.rules[0]!.conditions.all[0]!.value = 5;
    const file = join(dir, "queue-worker.json");
    writeFileSync(file, JSON.stringify(candidate));
    const diff = await capture((o) => runReplay(["--db", url, "--object", "w", file], o));
    expect(diff.code).toBe(1);
    expect(diff.out).toContain("facts#1");
    expect(diff.out).toMatch(/actual: {4}wake -> waking \[backlog-wake\]/);
    expect(diff.out).toMatch(/candidate: none -> dormant \[\]/);

    expect((await capture((o) => runReplay(["--db", url, "--object", "nope", same], o))).code).toBe(2);
  });

  test("says from when it compares, when retention pruned the oldest decisions", async () => {
    const url = `file:${join(dir, "pruned.db")}`;
    const store = new LibsqlStore({ url });
    const s = await makeServices({ store });
    await s.governor.putObject("w", { policy: "queue-worker" });
    await s.advance(60_000);
    const cutoff = s.clock.now();
    await s.governor.postFacts("w", { queue: { depth: 1 } });
    await s.advance(60_000);
    await store.deleteDecisions((await store.oldDecisions(cutoff, 100)).map((d) => d.id));
    const kept = await store.listDecisions("w", 10);
    await s.close();

    const same = join(RULES_DIR, "queue-worker.json");
    const run = await capture((o) => runReplay(["--db", url, "--object", "w", same], o));
    expect(run.code).toBe(0);
    const oldest = new Date(Math.min(...kept.map((d) => d.at))).toISOString();
    expect(run.out).toContain(`compared from ${oldest}`);
  });
});

describe("vigil schema", () => {
  test("prints the generated schema", () => {
    const out = execFileSync(process.execPath, ["bin/vigil.js", "schema"], { encoding: "utf8" });
    expect(out).toBe(policyJsonSchemaText());
  });
});

describe("vigil test with a policy it refuses", () => {
  test("is exit 1 even when no fixture uses it, and a fixture naming it is told it was refused", async () => {
    const root = mkdtempSync(join(dir, "refused-"));
    const rules = join(root, "rules");
    const fixtures = join(root, "fixtures");
    mkdirSync(rules);
    mkdirSync(fixtures);
    copyFileSync(join(RULES_DIR, "on-demand.json"), join(rules, "on-demand.json"));
    writeFileSync(join(rules, "broken.json"), '{"name": "broken", "version": "1", "rules": [');
    copyFileSync(
      join(RULES_DIR, "..", "fixtures", "on-demand", "freeze-thaw.json"),
      join(fixtures, "freeze-thaw.json"),
    );
    const run = (paths: string[]) => capture((o) => runTest(["--rules", rules, ...paths], o, () => {}));

    const clean = await run([fixtures]);
    expect(clean.out).toContain("policy refused: ");
    expect(clean.out).toContain("1 passed, 0 failed; 1 policy refused");
    expect(clean.code).toBe(1);

    writeFileSync(
      join(fixtures, "uses-broken.json"),
      JSON.stringify({ policy: "broken", start: "2026-03-01T00:00:00Z", steps: [{ facts: {} }] }),
    );
    const naming = await run([join(fixtures, "uses-broken.json")]);
    expect(naming.out).toContain(`policy "broken" was refused (${join(rules, "broken.json")}, above)`);
    expect(naming.code).toBe(2);
  });
});
