// README (VIGIL_MEMORY_LIMIT): "a replay does not refuse recorded history over it: it was accepted
// once". `vigil simulate --db` replays recorded history too, and ran it under the default 256 KiB
// limit: a history a server with a raised VIGIL_MEMORY_LIMIT accepted could not be simulated.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { runSimulate } from "../../src/cli/simulate.ts";
import { DEFAULT_LIMITS } from "../../src/core/memory-limits.ts";
import { Governor } from "../../src/governor/governor.ts";
import { PolicyRegistry } from "../../src/governor/policy-registry.ts";
import { LibsqlStore } from "../../src/storage/libsql-store.ts";
import { SimulatedDriver } from "../../src/substrate/simulated/driver.ts";
import { VirtualClock } from "../../src/timers/clock.ts";
import { RULES_DIR, START } from "../helpers/services.ts";

const dir = mkdtempSync(join(tmpdir(), "vigil-sim-mem-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("--db simulates history a server with VIGIL_MEMORY_LIMIT=1048576 accepted", async () => {
  const url = `file:${join(dir, "v.db")}`;
  const clock = new VirtualClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const store = new LibsqlStore({ url });
  const governor = new Governor({
    store,
    policies,
    drivers: [new SimulatedDriver({ clock, random: () => 0.5 })],
    clock,
    random: () => 0.5,
    // What src/main.ts gives the server for VIGIL_MEMORY_LIMIT=1048576.
    limits: { ...DEFAULT_LIMITS, maxMemoryBytes: 1024 * 1024 },
  });
  await governor.start();
  try {
    await governor.putObject("w", { policy: "on-demand", memory: {}, substrate: { driver: "simulated", config: {} } });
    // Five patches of 60 KB each (under the 64 KiB patch limit): 300 KB of memory, accepted.
    for (let i = 0; i < 5; i++) {
      await clock.advance(1000, () => governor.idle());
      await governor.postFacts("w", { [`blob${i}`]: "x".repeat(60_000), work: { pending: i % 2 } });
    }
    await clock.advance(1000, () => governor.idle());
  } finally {
    await governor.close();
    await store.close();
  }
  const out: string[] = [];
  const err: string[] = [];
  const args = ["--policy", "on-demand", "--db", url, "--object", "w", "--rules", RULES_DIR, "--json"];
  const code = await runSimulate(
    args,
    (s) => out.push(s),
    (s) => err.push(s),
  );
  expect(err.join("")).toBe("");
  expect(code).toBe(0);
  expect(JSON.parse(out.join("")).facts).toBe(5);
});
