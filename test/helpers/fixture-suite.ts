// The tests a directory of policies and its fixtures share (fixtures/ for rules/, and the
// recipes): each fixture passes, and each rule of each policy fires in some fixture.

import { expect, test } from "vitest";
import type { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import type { PolicyInfo } from "../../src/governor/services.ts";
import { formatFailure, loadFixture, runFixture } from "../../src/what-if/fixtures.ts";

export function fixtureSuite(files: string[], registry: PolicyRegistry, policies: () => PolicyInfo[], what: string) {
  test.each(files)("%s", async (file) => {
    const result = await runFixture(loadFixture(file), registry);
    expect(result.failures.map(formatFailure)).toEqual([]);
    expect(result.passed).toBe(true);
  });

  test(`every rule of every ${what} fires in some fixture`, async () => {
    const fired = new Map<string, Set<string>>();
    for (const file of files) {
      const loaded = loadFixture(file);
      const r = await runFixture(loaded, registry);
      const set = fired.get(loaded.fixture.policy) ?? new Set();
      for (const d of r.decisions) for (const f of d.fired) set.add(f.rule);
      fired.set(loaded.fixture.policy, set);
    }
    for (const p of policies()) {
      const missing = p.rules.filter((rule) => !fired.get(p.name)?.has(rule));
      expect(missing, `rules of ${p.name} no fixture fires`).toEqual([]);
    }
  });
}
