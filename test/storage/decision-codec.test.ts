// Decisions on disk, compactly: every decision the example policies take in their fixtures,
// and in a policy with shared conditions, priorities and short-circuits, is rebuilt exactly from
// its compact body and the policy document; a decision the document cannot rebuild is kept
// whole; and a compact body is a fraction of the whole.

import { describe, expect, test } from "vitest";
import type { PolicyDocument } from "../../src/core/policy.ts";
import type { Decision } from "../../src/core/types.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { decodeDecision, encodeDecision, policyKeyOf, type PolicyRef } from "../../src/storage/decision-codec.ts";
import { createSandbox } from "../../src/what-if/sandbox.ts";
import { findFixtureFiles, loadFixture, runFixture } from "../../src/what-if/fixtures.ts";
import { T0 } from "../helpers/records.ts";
import { RULES_DIR } from "../helpers/services.ts";

const registry = new PolicyRegistry();
registry.loadDirectory(RULES_DIR);

function refOf(name: string, key = 7): PolicyRef {
  const info = registry.get(name)!;
  return { key, name: info.name, version: info.version, hash: info.hash, document: info.document as PolicyDocument };
}

const roundTrip = (d: Decision, ref: PolicyRef | null) =>
  decodeDecision({ id: d.id, objectId: d.objectId, at: d.at, body: encodeDecision(d, ref) }, ref);

describe("decision codec", () => {
  test("every decision of every fixture is rebuilt exactly, from a compact body", async () => {
    let count = 0;
    for (const file of findFixtureFiles(["fixtures"])) {
      const loaded = loadFixture(file);
      const ref = refOf(loaded.fixture.policy);
      for (const d of (await runFixture(loaded, registry)).decisions) {
        const body = encodeDecision(d, ref);
        expect(policyKeyOf(body), `${file}: ${JSON.stringify(d)}`).toBe(ref.key);
        expect(roundTrip(d, ref)).toEqual(d);
        // The same text too (GET /v1/decisions/{id} serves what the facts reply carried), key order included.
        expect(JSON.stringify(roundTrip(d, ref))).toBe(JSON.stringify(d));
        count++;
      }
    }
    expect(count).toBeGreaterThan(20);
  });

  test("shared conditions (realized or short-circuited), priorities, not, facts referring to facts", async () => {
    const doc = {
      name: "shapes",
      version: "1",
      conditions: {
        busy: { any: [{ fact: "memory", path: "$.jobs", operator: "greaterThan", value: 0 }] },
        quiet: { all: [{ condition: "busy" }, { fact: "idleMs", operator: "greaterThan", value: 1000 }] },
      },
      rules: [
        {
          name: "short-circuit",
          conditions: {
            all: [
              { fact: "state", operator: "equal", value: "nope", priority: 10 },
              { condition: "busy", priority: 1 },
            ],
          },
          event: { type: "wake" },
        },
        {
          name: "realized",
          conditions: {
            any: [{ condition: "quiet" }, { not: { fact: "memory", path: "$.missing", operator: "equal", value: 1 } }],
          },
          event: { type: "hold-active", params: { for: "PT1M" } },
        },
        {
          name: "compare-facts",
          priority: 5,
          conditions: {
            all: [{ fact: "memory", path: "$.a", operator: "lessThan", value: { fact: "memory", path: "$.b" } }],
          },
          event: { type: "dormancy", params: { wakeAfter: "PT1H" } },
        },
        {
          name: "by-reference",
          conditions: { condition: "busy" },
          event: { type: "schedule", params: { name: "x", after: "PT5M" } },
        },
      ],
    };
    const local = new PolicyRegistry(() => T0);
    const r = local.loadText(JSON.stringify(doc), "shapes.json");
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    const ref: PolicyRef = { key: 3, ...r.policy.info, document: r.policy.info.document as PolicyDocument };
    const sandbox = await createSandbox(local, T0);
    const seen: Decision[] = [];
    sandbox.governor.events.on("evaluation:completed", (d) => seen.push(d));
    try {
      await sandbox.governor.putObject("s", { policy: "shapes", memory: { jobs: 0, a: 1, b: 2 } });
      await sandbox.governor.postFacts("s", { jobs: 3 });
      await sandbox.advanceTo(T0 + 3_600_000);
      await sandbox.governor.postFacts("s", { jobs: 0, a: 5, missing: 1 });
      await sandbox.advanceTo(T0 + 2 * 3_600_000);
    } finally {
      await sandbox.close();
    }
    const kinds = new Set(
      seen.flatMap((d) =>
        d.explanation.rules.flatMap((rule) => JSON.stringify(rule.conditions).match(/"kind":"\w+"/g) ?? []),
      ),
    );
    expect(kinds).toEqual(
      new Set(['"kind":"all"', '"kind":"any"', '"kind":"not"', '"kind":"fact"', '"kind":"reference"']),
    );
    for (const d of seen) {
      expect(policyKeyOf(encodeDecision(d, ref))).toBe(3);
      expect(roundTrip(d, ref)).toEqual(d);
    }
  });

  test("a decision the document does not rebuild is kept whole", async () => {
    const loaded = loadFixture("fixtures/queue-worker/backlog-job-idle.json");
    const [d] = (await runFixture(loaded, registry)).decisions;
    const ref = refOf("queue-worker");
    const tampered: Decision = { ...d!, explanation: { ...d!.explanation, summary: "edited by hand" } };
    expect(policyKeyOf(encodeDecision(tampered, ref))).toBeNull();
    expect(roundTrip(tampered, ref)).toEqual(tampered);
    const otherVersion: Decision = { ...d!, policy: { ...d!.policy, hash: "f".repeat(64) } };
    expect(policyKeyOf(encodeDecision(otherVersion, ref))).toBeNull();
    expect(roundTrip(otherVersion, null)).toEqual(otherVersion);
  });

  test("a compact body is a fraction of the whole decision", async () => {
    const loaded = loadFixture("fixtures/queue-worker/backlog-job-idle.json");
    const ref = refOf("queue-worker");
    for (const d of (await runFixture(loaded, registry)).decisions) {
      const compact = encodeDecision(d, ref).length;
      expect(compact).toBeLessThan(JSON.stringify(d).length / 5);
      expect(compact).toBeLessThan(260);
    }
  });
});
