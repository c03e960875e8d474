// A process driver run as a program of its own, for tests that need the signalling side to be
// another user than the test (run under `setpriv`): it adopts the tree an observation records
// (argv[2], JSON: {objectId, graceMs, recorded}), stops it on the system clock, and prints the
// stop's answer as one JSON line: {adopted, observation} or {adopted, error, retryable}, with
// `again`, the answer of a second stop. With `go` (a file's path), the tree's leader exits on its
// own first: once adopted, the file is written (the leader waits for it), the exit awaited (the
// driver's watch reports it), and the answer has `observed`, an observation made after the
// stop, and `released`, what a release with `stop` (a DELETE's) answered after the second stop:
// {} or {error}. With `between` (a directory), the second stop waits: once the first is over, the
// file `after` is written there, and the second stop is sent once the file `forked` appears (the
// tree forked a process since). With `release` ("stop" or "keep"), a release in that mode is sent at once once
// adopted, and then (after one with `keep`, as to a new object of the same id) a stop: the answer
// is {adopted, released, after}, `after` the stop's answer. With `between` and a file `start` there,
// a start is sent before the second stop (startedIf, at the end); with a file `third` there, a
// third stop follows the second (thirdIf); with a file `closing` there, the driver is closed
// once the file `close` appears there, while the second stop is under way (closeIf). Without
// argv[2] it stops nothing and exits 0: it has loaded, all that stop-refused.test.ts's probe asks
// of it. That test runs it as one ES module bundled by esbuild, which plain `node` reads from its
// stdin (not through tsx).

import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ProcessDriver } from "../../src/substrate/process/driver.ts";
import { DriverError } from "../../src/substrate/driver.ts";
import { SystemClock } from "../../src/timers/clock.ts";
import { eventually } from "./eventually.ts";

if (process.argv[2] === undefined) process.exit(0);
const { objectId, graceMs, recorded, go, release, between } = JSON.parse(process.argv[2]);
const driver = new ProcessDriver({ clock: new SystemClock(), watchMs: 50 });
const t = { objectId, config: { command: "sh", graceMs } };
// The driver's timers do not keep a process alive (a server's listener does): this does, meanwhile.
const alive = setInterval(() => {}, 1000);
const exited = new Promise<void>((resolve) => driver.onObservation(() => resolve()));
const adopted = await driver.adopt(t, recorded);
const stop = () =>
  driver.stop(t).then(
    (observation) => ({ observation }),
    (e: unknown) => ({ error: (e as Error).message, retryable: e instanceof DriverError ? e.retryable : null }),
  );
const deleted = (mode: "stop" | "keep" = "stop") =>
  driver.release(t, mode).then(
    () => ({}),
    (e: unknown) => ({ error: (e as Error).message }),
  );
if (release !== undefined) {
  const released = await deleted(release);
  const after = release === "keep" ? { after: await stop() } : {};
  process.stdout.write(`${JSON.stringify({ adopted, released, ...after })}\n`);
  await driver.close();
  clearInterval(alive);
  process.exit(0);
}
if (go !== undefined) {
  writeFileSync(go, "");
  await exited;
}
const first = await stop();
const observed = go === undefined ? {} : { observed: await driver.observe(t) };
let started = {};
if (between !== undefined) {
  writeFileSync(join(between, "after"), "");
  await eventually(() => existsSync(join(between, "forked")));
  started = await startedIf(between);
}
closeIf(between);
const again = await stop();
const third = between === undefined ? {} : await thirdIf(between);
// A DELETE's release, which stops the tree first.
const released = go === undefined ? {} : { released: await deleted() };
const answer = { adopted, ...first, ...observed, ...started, again, ...third, ...released };
process.stdout.write(`${JSON.stringify(answer)}\n`);
await driver.close();
clearInterval(alive);

/**
 * With `between`, when the file `start` is in that directory, a start (of `sleep 1000`) is sent
 * before the second stop, and the answer has `started`, its observation.
 */
async function startedIf(dir: string): Promise<{ started?: unknown }> {
  if (!existsSync(join(dir, "start"))) return {};
  const config = { command: "sleep", args: ["1000"], graceMs };
  return { started: await driver.start({ ...t, config }).catch((e: unknown) => ({ error: (e as Error).message })) };
}

/** With `between`, when the file `third` is in that directory, `third`: the answer of a third stop. */
async function thirdIf(dir: string): Promise<{ third?: unknown }> {
  return existsSync(join(dir, "third")) ? { third: await stop() } : {};
}

/**
 * With `between`, when the file `closing` is in that directory, the driver is closed (as a server
 * shutting down closes it) once the file `close` appears there: the test writes it while the
 * second stop is under way.
 */
function closeIf(dir: string | undefined): void {
  if (dir === undefined || !existsSync(join(dir, "closing"))) return;
  const poll = () => (existsSync(join(dir, "close")) ? void driver.close() : setTimeout(poll, 5).unref());
  poll();
}
