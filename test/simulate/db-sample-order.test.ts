// docs/simulate.md, --sample: "objects drawn per row in the report (default 8: the first objects
// of the traffic)". With --db, the policy rows drew the objects in creation order and the
// autostop row in the order of --object: with --sample 1 the rows showed different objects. A
// recorded workload's objects now come in creation order, as a traffic file's do.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { runSimulate } from "../../src/cli/simulate.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, RULES_DIR, START } from "../helpers/services.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-sim-sample-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("--db --report --sample 1: every row draws the same object", async () => {
  const url = `file:${join(dir, "v.db")}`;
  const s = await makeServices({ store: new LibsqlStore({ url }), start: START });
  try {
    const substrate = { driver: "simulated", config: { startMs: 2000 } };
    await s.governor.putObject("early", { policy: "on-demand", memory: {}, substrate });
    await s.advance(10_000);
    await s.governor.putObject("late", { policy: "on-demand", memory: {}, substrate });
    await s.advance(10_000);
    await s.governor.postFacts("early", { work: { pending: 1 } });
    await s.governor.postFacts("late", { work: { pending: 1 } });
    await s.advance(30_000);
    await s.governor.postFacts("early", { work: { pending: 0 } });
    await s.governor.postFacts("late", { work: { pending: 0 } });
    await s.advance(1000);
  } finally {
    await s.close();
  }
  const svg = join(dir, "r.svg");
  const args = ["--policy", "on-demand", "--db", url, "--object", "late,early", "--rules", RULES_DIR];
  args.push("--autostop-after", "PT1M", "--report", svg, "--sample", "1");
  const out: string[] = [];
  expect(await runSimulate(args, (x) => out.push(x))).toBe(0);
  const picture = readFileSync(svg, "utf8");
  // The band label of each timeline picture: `<title>ID</title>ID</text>`.
  const drawn = [...picture.matchAll(/<title>([^<]+)<\/title>\1<\/text>/g)].map((m) => m[1]);
  expect(drawn.length).toBe(2);
  expect(drawn).toEqual(["early", "early"]);
});
