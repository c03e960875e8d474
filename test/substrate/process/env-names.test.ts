// A config's `env` with a name no process can have: `{"K=V": "z"}` reached the child as K with
// the value `V=z`, and `{"": "x"}` as a malformed `=x` entry; the PUT answered 201. Both are
// refused now, in both modes (with a cgroup they were refused already, as not shell names).
// Found by a review of the process driver.

import { expect, test } from "vitest";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { Governor } from "../../../src/governor/governor.ts";
import { PolicyRegistry } from "../../../src/governor/policy-registry.ts";
import { MemoryStore } from "../../../src/storage/memory-store.ts";
import { RULES_DIR, START } from "../../helpers/services.ts";

const driver = new ProcessDriver({ clock: new VirtualClock(0) });

test.each([["K=V"], [""], ["=lead"]])("the env name %j is refused, naming it", (name) => {
  expect(driver.validateConfig({ command: "sleep", env: { [name]: "z" } })).toEqual([
    { path: `$.env[${JSON.stringify(name)}]`, message: expect.stringMatching(/not a variable name/) },
  ]);
});

test("a value may hold = and newlines, and names of any other characters pass", () => {
  expect(driver.validateConfig({ command: "sleep", env: { A: "b=c\nd", "app.name": "x", "MY-VAR": "" } })).toEqual([]);
});

test("a PUT with such a name is refused at the config's env, and creates nothing", async () => {
  const clock = new VirtualClock(START);
  const policies = new PolicyRegistry(() => clock.now());
  policies.loadDirectory(RULES_DIR);
  const store = new MemoryStore();
  const governor = new Governor({ store, policies, clock, drivers: [new ProcessDriver({ clock })] });
  await governor.start();
  try {
    const put = governor.putObject("p1", {
      policy: "on-demand",
      substrate: { driver: "process", config: { command: "sleep", env: { "K=V": "z" } } },
    });
    await expect(put).rejects.toMatchObject({
      kind: "invalid",
      problems: [{ path: '$.substrate.config.env["K=V"]', message: expect.stringMatching(/not a variable name/) }],
    });
    expect(await governor.getObject("p1")).toBeNull();
  } finally {
    await governor.close();
  }
});
