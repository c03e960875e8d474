// How a test waits for what another process or the kernel does (a killed tree to go, a child to
// fork, a file to appear): on a bound of real time, not on a count of event-loop turns. 10,000
// turns, proc.ts's default for `until`, pass in under a second on an idle machine and in less
// time than a loaded core gives a killed process to be scheduled and exit.

import { until, watchFor } from "../../src/substrate/process/proc.ts";

/** 30 s: under the suite's 60 s test timeout, so that a wait that never ends fails at its own expect. */
export const WAIT_MS = 30_000;

/**
 * Whether `done()` held within `withinMs` of real time: read at each of the first turns of the
 * event loop (what this process does next), then every 2 ms (what another process or the kernel
 * does, at the machine's pace; a spin on the loop would take a core from it). A wait that
 * passes returns as soon as `done()` holds.
 */
export async function eventually(done: () => boolean, withinMs = WAIT_MS): Promise<boolean> {
  return (await until(done, 100)) || (await watchFor(done, withinMs));
}
