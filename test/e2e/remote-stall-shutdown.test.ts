// SIGTERM while the remote database stalls: no request is in flight, so the drain's time goes
// to closing (the lease's release waits for the database), and the line logged when the drain
// times out says what it was waiting for rather than "work in flight" with 0 requests.

import { expect, test } from "vitest";
import { remoteVigil } from "../helpers/remote-vigil.ts";

const remote = remoteVigil("stall-shutdown", { VIGIL_DRAIN_TIMEOUT: "PT1S" });

test("a drain that times out while closing says so", async () => {
  remote.fake.mode = "stall";
  remote.vigil.kill("SIGTERM");
  expect(await remote.vigil.exited).toBe(1);
  const line = remote.vigil
    .log()
    .split("\n")
    .find((l) => l.includes("drain timed out"));
  expect(line).toBeDefined();
  const fields = JSON.parse(line!) as Record<string, unknown>;
  expect(fields).toMatchObject({ waitingFor: "the scheduler, drivers and database to close", requests: 0 });
}, 30_000);
