// docs/simulate.md, the report: each row's picture is titled with the number of bands it draws.
// With --db and an --until earlier than an object's recorded creation, that object has no time
// in the window: the policy row never creates it, and the autostop row drew it as an empty band,
// while both titles said "states of 2 of 2 objects". No row draws it now, and the titles count
// the one band each row draws.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { makeServices, RULES_DIR, START } from "../helpers/services.ts";
import { runSimulateCli } from "./run-cli.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-sim-title-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("--db --until before an object's creation: the titles count the bands drawn", async () => {
  const url = `file:${join(dir, "v.db")}`;
  const s = await makeServices({ store: new LibsqlStore({ url }), start: START });
  try {
    const substrate = { driver: "simulated", config: { startMs: 2000 } };
    await s.governor.putObject("early", { policy: "on-demand", memory: {}, substrate });
    await s.governor.postFacts("early", { work: { pending: 1 } });
    await s.advance(60_000);
    await s.governor.putObject("late", { policy: "on-demand", memory: {}, substrate });
    await s.governor.postFacts("late", { work: { pending: 1 } });
    await s.advance(1000);
  } finally {
    await s.close();
  }
  const svg = join(dir, "r.svg");
  const until = new Date(START + 30_000).toISOString();
  const args = ["--policy", "on-demand", "--db", url, "--object", "early,late", "--rules", RULES_DIR];
  args.push("--autostop-after", "PT1M", "--until", until, "--report", svg, "--json");
  const { code, stdout } = await runSimulateCli(args);
  expect(code).toBe(0);
  expect(JSON.parse(stdout)).toMatchObject({ objects: 2, facts: 1, ignoredFacts: 1 });
  const picture = readFileSync(svg, "utf8");
  const titles = [...picture.matchAll(/<title>([^<]*: states of [^<]*)<\/title>/g)].map((m) => m[1]);
  expect(titles).toEqual(["on-demand: states of 1 of 2 objects", "autostop(PT1M): states of 1 of 2 objects"]);
  // The band label of each timeline picture: `<title>ID</title>ID</text>`.
  const drawn = [...picture.matchAll(/<title>([^<]+)<\/title>\1<\/text>/g)].map((m) => m[1]);
  expect(drawn).toEqual(["early", "early"]);
});
