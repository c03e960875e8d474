// `--policy` names one policy, and no policy's name holds a comma or a space. Given a list,
// `vigil objects list --policy a,b` asked the server for the objects of the policy "a,b" and
// printed "no objects" (exit 0), and `vigil simulate --policy a,b` simulated both as if the
// second were a --compare. Each is now a usage error (exit 2) that sends nothing.

import { expect, test } from "vitest";
import { runObjects } from "../../src/cli/objects.ts";
import { recordingServer, run } from "./harness.ts";
import { runSimulateCli } from "../simulate/run-cli.ts";

const { seen, url } = recordingServer();

test.each(
  [
    ["list", "--policy", "queue-worker,on-demand"],
    ["list", "--policy", "queue-worker on-demand"],
    ["put", "w-1", "--policy", "queue-worker,on-demand"],
  ].map((args) => [JSON.stringify(args), args] as const),
)("objects %s is usage, exit 2, and sends nothing", async (_, args) => {
  seen.length = 0;
  const r = await run(runObjects, [...args], url());
  expect(r.code).toBe(2);
  expect(r.err).toContain(`vigil objects: --policy names one policy, not the list "${args.at(-1)}"`);
  expect(seen).toEqual([]);
});

test.each(["on-demand,queue-worker", "on-demand queue-worker"])(
  "simulate --policy %j is usage, exit 2, pointing at --compare",
  async (policy) => {
    const r = await runSimulateCli(["--policy", policy, "--traffic", "fixtures/traffic/queue-burst.jsonl"]);
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr: `vigil simulate: --policy names one policy, not the list "${policy}": give the others with --compare\n`,
    });
  },
);
