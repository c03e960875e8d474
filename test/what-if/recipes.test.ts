// The policy recipes in docs/recipes/ run here: every fixture under docs/recipes/fixtures
// against docs/recipes/rules (the same loader and runner as `vigil test`), the policy each page
// shows is the file itself, and what a fixture cannot do (crash compute) runs on the services.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { findFixtureFiles, loadFixture, runFixture } from "../../src/what-if/fixtures.ts";
import { fixtureSuite } from "../helpers/fixture-suite.ts";
import { makeServices, type TestServices } from "../helpers/services.ts";

// Relative, as in fixtures.test.ts: vitest runs from the repository root, and the test names read better.
const RECIPES = "docs/recipes";
const RULES = join(RECIPES, "rules");
const FIXTURES = join(RECIPES, "fixtures");

const registry = new PolicyRegistry();
const refused = registry.loadDirectory(RULES);
const files = findFixtureFiles([FIXTURES]);
const policies = registry.list().items;

describe("docs/recipes/", () => {
  test("the recipes load, compile, warn about nothing, and each has fixtures", () => {
    expect(refused).toEqual([]);
    expect(policies.map((p) => p.name)).toEqual([
      "business-hours",
      "crash-backoff",
      "idle-ignoring-heartbeats",
      "lease-keep-awake",
      "wake-before-deadline",
    ]);
    for (const p of policies) {
      expect(p.engine, p.name).toEqual({ name: "compiled" });
      const loaded = new PolicyRegistry().loadFile(p.file);
      expect(loaded.ok && loaded.warnings, p.name).toEqual([]);
      expect(findFixtureFiles([join(FIXTURES, p.name)]).length, p.name).toBeGreaterThanOrEqual(1);
    }
  });

  fixtureSuite(files, registry, () => policies, "recipe");

  test.each(policies.map((p) => p.name))(
    "docs/recipes/%s.md shows the policy file as it is, and the index links it",
    (name) => {
      const page = join(RECIPES, `${name}.md`);
      expect(existsSync(page)).toBe(true);
      const shown = /```json\n([\s\S]*?)\n```/.exec(readFileSync(page, "utf8"))?.[1];
      expect(shown, "the page's first json block").toBeDefined();
      expect(JSON.parse(shown!)).toEqual(JSON.parse(readFileSync(join(RULES, `${name}.json`), "utf8")));
      expect(readFileSync(join(RECIPES, "README.md"), "utf8")).toContain(`](${name}.md)`);
    },
  );
});

describe("idle-ignoring-heartbeats: why the recipe exists", () => {
  test("the same heartbeats keep a policy on idleMs awake, since every fact resets it", async () => {
    const doc = JSON.parse(readFileSync(join(RULES, "idle-ignoring-heartbeats.json"), "utf8")) as {
      rules: { name: string; conditions: unknown }[];
    };
    const idle = doc.rules.find((r) => r.name === "idle")!;
    idle.conditions = {
      all: [
        { fact: "idleMs", operator: "greaterThan", value: 600_000 },
        { fact: "state", operator: "in", value: ["active", "waking"] },
      ],
    };
    const naive = new PolicyRegistry();
    expect(naive.loadText(JSON.stringify(doc), "naive/idle-ignoring-heartbeats.json").ok).toBe(true);
    const file = join(FIXTURES, "idle-ignoring-heartbeats", "heartbeats-do-not-keep-it-awake.json");
    const result = await runFixture(loadFixture(file), naive);
    // Step 8 is the 09:10:30 heartbeat that puts the recipe's object to sleep.
    expect(result.failures.filter((f) => f.step === 7 && f.field === "state")).toEqual([
      { step: 7, field: "state", expected: "dormant", actual: "active" },
    ]);
  });
});

describe("crash-backoff on the services (a fixture cannot crash compute)", () => {
  let s: TestServices;
  afterEach(async () => s.close());

  const state = async () => (await s.governor.getObject("w"))!.state;

  test("a crash restarts it at once; a crash loop leaves it failed for 15 minutes whatever facts arrive", async () => {
    s = await makeServices({ rulesDir: RULES });
    await s.governor.putObject("w", { policy: "crash-backoff", memory: { work: { pending: 1 } } });
    await s.advance(0);
    expect(await state()).toBe("active");

    // One crash: the substrate trigger is evaluated like any other, and work-pending restarts it.
    s.driver.crash("w");
    await s.advance(1_000);
    const [restart] = await s.governor.listDecisions("w", 1);
    expect(restart).toMatchObject({ trigger: { kind: "substrate", name: "stopped" }, fromState: "dormant" });
    expect(restart!.fired.map((f) => f.rule)).toEqual(["work-pending"]);
    expect(restart!.actions.map((a) => a.kind)).toEqual(["start"]);
    expect(await state()).toBe("active");

    // Four more within the minute: Vigil's guard makes it failed instead of evaluating it.
    for (let i = 0; i < 4; i++) {
      s.driver.crash("w");
      await s.advance(1_000);
    }
    expect(await state()).toBe("failed");
    const [loop] = await s.governor.listDecisions("w", 1);
    expect(loop!.trigger).toEqual({ kind: "substrate", name: "crash-loop" });
    expect(new Date(loop!.at).toISOString()).toBe("2026-03-01T00:00:04.000Z");

    // New work does not restart it while it cools down.
    await s.governor.postFacts("w", { work: { pending: 5 } });
    await s.advance(14 * 60_000);
    expect(await state()).toBe("failed");
    const recent = await s.governor.listDecisions("w", 50);
    const sinceLoop = recent.slice(
      0,
      recent.findIndex((d) => d.id === loop!.id),
    );
    expect(sinceLoop.map((d) => d.trigger.kind)).toEqual(["facts"]);
    expect(sinceLoop.flatMap((d) => d.actions)).toEqual([]);

    // It failed at 00:00:04. The 00:15:00 sweep finds it failed for 14 min 56 s, too soon; the
    // 00:16:00 sweep is the first one after 15 minutes, and tries once more.
    await s.advance(60_000);
    expect(await state()).toBe("failed");
    await s.advance(60_000);
    expect(await state()).toBe("active");
    const [retry] = await s.governor.listDecisions("w", 1);
    expect(retry!.fired.map((f) => f.rule)).toEqual(["cool-down-over"]);
  });
});
