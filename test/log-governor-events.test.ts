// The lines the governor's events leave in the server's log (main.ts's logGovernorEvents): an
// object that a crash loop made failed is told, as one an action failed for good is.

import { afterEach, expect, test } from "vitest";
import { createLogger } from "../src/log.ts";
import { logGovernorEvents } from "../src/main.ts";
import { makeServices, type TestServices } from "./helpers/services.ts";

const open: TestServices[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

async function logged() {
  const s = await makeServices();
  open.push(s);
  const lines: Record<string, unknown>[] = [];
  logGovernorEvents(
    s.governor.events,
    createLogger("info", (line) => void lines.push(JSON.parse(line) as Record<string, unknown>)),
  );
  return { s, lines };
}

test("a crash loop is logged at warn, naming the object and the decision's note", async () => {
  const { s, lines } = await logged();
  await s.governor.putObject("m", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
  await s.advance(0);
  for (let i = 0; i < 5; i++) {
    s.driver.crash("m");
    await s.advance(1_000);
  }
  const [loop] = await s.governor.listDecisions("m", 1);
  expect(loop).toMatchObject({ trigger: { kind: "substrate", name: "crash-loop" }, toState: "failed" });
  expect(lines.filter((l) => l.msg === "crash loop")).toEqual([
    { level: "warn", time: expect.any(String), object: "m", note: loop!.notes[0], msg: "crash loop" },
  ]);
  // The rules' own restarts before it were no failure: nothing else was logged.
  expect(lines.map((l) => l.msg)).toEqual(["crash loop"]);
});

test("an action that fails for good is logged at warn with its error", async () => {
  const { s, lines } = await logged();
  await s.governor.putObject("w", {
    policy: "queue-worker",
    substrate: { driver: "simulated", config: { failRate: 1 } },
  });
  await s.governor.postFacts("w", { queue: { depth: 1 } });
  await s.advance(10_000);
  expect((await s.governor.getObject("w"))!.state).toBe("failed");
  expect(lines).toEqual([
    {
      level: "warn",
      time: expect.any(String),
      object: "w",
      kind: "start",
      error: "simulated failure of start",
      msg: "action failed",
    },
  ]);
});
