// A config's `env` with a name no process can have: `{"K=V": "z"}` reached the child as K with
// the value `V=z`, and `{"": "x"}` as a malformed `=x` entry; the PUT answered 201. Both are
// refused now, in both modes (with a cgroup they were refused already, as not shell names).
// Found by a review of the process driver.

import { expect, test } from "vitest";
import { ProcessDriver } from "../../../src/substrate/process/driver.ts";
import { VirtualClock } from "../../../src/timers/clock.ts";
import { putProcessObject } from "../../helpers/process-put.ts";

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
  expect(await putProcessObject({ command: "sleep", env: { "K=V": "z" } })).toEqual({
    rejected: expect.objectContaining({
      kind: "invalid",
      problems: [{ path: '$.substrate.config.env["K=V"]', message: expect.stringMatching(/not a variable name/) }],
    }),
    stored: false,
  });
});
