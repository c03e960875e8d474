// Two restarts in a row: the object's only decision between the two downtimes is a timer that
// fired late after the first. Replay merged both downtimes into one jump and lost that firing: a
// late decision shows the server up at its time too.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, RULES_DIR, START } from "../helpers/services.ts";

test("replay of the recorded policy over two back-to-back downtimes finds no difference", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-replay-down-"));
  const url = `file:${join(dir, "v.db")}`;
  try {
    let s = await makeServices({ store: new LibsqlStore({ url }), start: START });
    await s.governor.putObject("m", { policy: "continuous-monitor", memory: { monitoring: { enabled: true } } });
    await s.advance(90_000); // sweeps at 00:01:00 ... then down at 00:01:30
    await s.close();
    // Up again at 00:05:20: the 00:02 sweep fires late; down again at once.
    s = await makeServices({ store: new LibsqlStore({ url }), start: START + 320_000 });
    await s.advance(0);
    await s.close();
    // Up again at 00:10:20: the 00:06 sweep fires late; then runs normally.
    s = await makeServices({ store: new LibsqlStore({ url }), start: START + 620_000 });
    await s.advance(3 * 60_000);
    const late = (await s.store.listDecisions("m", 100)).filter((d) => d.trigger.late === true);
    expect(late.map((d) => new Date(d.at).toISOString())).toEqual([
      "2026-03-01T00:10:20.000Z",
      "2026-03-01T00:05:20.000Z",
    ]);
    const monitor = JSON.parse(readFileSync(join(RULES_DIR, "continuous-monitor.json"), "utf8"));
    const report = await s.whatIf.replay("m", monitor);
    await s.close();
    expect(report.differences).toEqual([]);
    expect(report.candidateDecisions).toBe(report.actualDecisions);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a recorded crash and then a fact in the same millisecond replay in that order: no difference", async () => {
  const s = await makeServices();
  try {
    const g = s.governor;
    await g.putObject("w", { policy: "on-demand", memory: {} });
    await g.postFacts("w", { work: { pending: 2 } }); // wakes
    await s.advance(10_000);
    s.driver.crash("w", "stopped"); // the compute exits; the policy wakes it again
    await s.advance(0);
    await g.postFacts("w", { work: { pending: 0 } }); // the same millisecond: the queue is empty
    await s.advance(10_000);
    const recorded = (await s.store.listDecisions("w", 10)).reverse();
    expect(recorded.map((d) => `${d.trigger.kind} ${d.at - recorded[0]!.at} mv${d.memoryVersion}`)).toEqual([
      "create 0 mv0",
      "facts 0 mv1",
      "substrate 10000 mv1",
      "facts 10000 mv2",
    ]);
    const policy = JSON.parse(readFileSync(join(RULES_DIR, "on-demand.json"), "utf8")) as unknown;
    const report = await s.whatIf.replay("w", policy);
    expect(report.differences).toEqual([]);
    expect(report.candidateDecisions).toBe(report.actualDecisions);
  } finally {
    await s.close();
  }
});
