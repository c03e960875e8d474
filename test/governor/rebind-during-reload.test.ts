// A PUT that waits in its object's mailbox while the object's policy is reloaded evaluates the
// object with the version serving when its turn comes, as facts and timers do, not the one
// serving when the request arrived.

import { afterEach, expect, test } from "vitest";
import { makeServices, type TestServices } from "../helpers/services.ts";

let s: TestServices | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

const policy = (version: string, above: number) => ({
  name: "p",
  version,
  rules: [
    {
      name: "go",
      conditions: { all: [{ fact: "memory", path: "$.go", operator: "greaterThan", value: above }] },
      event: { type: "wake" },
    },
  ],
});

test("a rebind that waited while its policy was reloaded is evaluated under the new version", async () => {
  s = await makeServices();
  expect(s.policies.loadText(JSON.stringify(policy("1", 0)), "inline/p.json").ok).toBe(true);
  await s.governor.putObject("o1", { policy: "p", memory: { go: 1 } });
  await s.advance(0);
  expect((await s.governor.getObject("o1"))!.state).toBe("active");

  let release: (() => void) | null = null;
  const busy = s.governor.exclusive("o1", () => new Promise<void>((r) => (release = r)));
  while (!release) await new Promise<void>((r) => setImmediate(r));
  const rebound = s.governor.putObject("o1", {
    policy: "p",
    substrate: { driver: "simulated", config: { startMs: 5 } },
  });
  // Version 2 wakes the object only past 5: under it, go = 1 leaves the rebound object dormant.
  expect(s.policies.loadText(JSON.stringify(policy("2", 5)), "inline/p.json").ok).toBe(true);
  (release as () => void)();
  await busy;
  const { object } = await rebound;
  await s.advance(0);

  const [decision] = await s.governor.listDecisions("o1", 1);
  expect(decision!.trigger).toEqual({ kind: "manual", name: "rebound" });
  expect(decision!.policy.version).toBe("2");
  expect(decision!.outcome).toBe("none");
  expect(object.state).toBe("dormant");
});
