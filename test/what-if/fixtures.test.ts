// Every fixture in fixtures/ runs here too: `npm test` covers them all (the same loader and
// runner as `vigil test`).

import { describe, expect, test } from "vitest";
import { findFixtureFiles, formatFailure, loadFixture, runFixture } from "../../src/what-if/fixtures.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { RULES_DIR } from "../helpers/services.ts";

const registry = new PolicyRegistry();
const refused = registry.loadDirectory(RULES_DIR);
const files = findFixtureFiles(["fixtures"]);

describe("fixtures/", () => {
  test("the example policies load and there are fixtures to run", () => {
    expect(refused).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  test.each(files)("%s", async (file) => {
    const result = await runFixture(loadFixture(file), registry);
    expect(result.failures.map(formatFailure)).toEqual([]);
    expect(result.passed).toBe(true);
  });

  test("every rule of every example policy fires in some fixture", async () => {
    const fired = new Map<string, Set<string>>();
    for (const file of files) {
      const loaded = loadFixture(file);
      const r = await runFixture(loaded, registry);
      const set = fired.get(loaded.fixture.policy) ?? new Set();
      for (const d of r.decisions) for (const f of d.fired) set.add(f.rule);
      fired.set(loaded.fixture.policy, set);
    }
    for (const p of registry.list().items) {
      const missing = p.rules.filter((rule) => !fired.get(p.name)?.has(rule));
      expect(missing, `rules of ${p.name} no fixture fires`).toEqual([]);
    }
  });
});
