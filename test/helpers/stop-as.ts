// A process driver run as a program of its own, for tests that need the signalling side to be
// another user than the test (run under `setpriv`): it adopts the tree an observation records
// (argv[2], JSON: {objectId, graceMs, recorded}), stops it on the system clock, and prints the
// stop's answer as one JSON line: {adopted, observation} or {adopted, error, retryable}, with
// `again`, the answer of a second stop.

import { ProcessDriver } from "../../src/substrate/process/driver.ts";
import { DriverError } from "../../src/substrate/driver.ts";
import { SystemClock } from "../../src/timers/clock.ts";

const { objectId, graceMs, recorded } = JSON.parse(process.argv[2]!);
const driver = new ProcessDriver({ clock: new SystemClock(), watchMs: 50 });
const t = { objectId, config: { command: "sh", graceMs } };
// The driver's timers do not keep a process alive (a server's listener does): this does, meanwhile.
const alive = setInterval(() => {}, 1000);
const adopted = await driver.adopt(t, recorded);
const stop = () =>
  driver.stop(t).then(
    (observation) => ({ observation }),
    (e: unknown) => ({ error: (e as Error).message, retryable: e instanceof DriverError ? e.retryable : null }),
  );
const first = await stop();
const answer = { adopted, ...first, again: await stop() };
process.stdout.write(`${JSON.stringify(answer)}\n`);
await driver.close();
clearInterval(alive);
