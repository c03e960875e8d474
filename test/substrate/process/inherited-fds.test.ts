// A descriptor the server inherited without close-on-exec reached every process it spawned: Node
// marks those it inherits close-on-exec only up to the first gap past fd 15, so one further up
// (`exec 100>file; vigil serve`, a supervisor's pipe) was open in governed compute, which held
// the file (a lock on it, a pipe's end whose reader waited for it) for as long as it ran. Found
// by a review of the process driver. The driver runs here in a process of its own, given such a
// descriptor as a server would be.

import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { procfs } from "../../../src/substrate/process/proc.ts";
import { eventually } from "../../helpers/eventually.ts";
import { killGroups } from "../../helpers/process.ts";

const groups: number[] = [];
const dirs: string[] = [];
afterEach(() => {
  killGroups(groups);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Starts a tree with the driver and prints its leader's pid, and what the driver's process inherited without close-on-exec. */
const SERVER = `
import { ProcessDriver } from "./src/substrate/process/driver.ts";
import { inheritedFds } from "./src/substrate/process/proc.ts";
import { VirtualClock } from "./src/timers/clock.ts";
const driver = new ProcessDriver({ clock: new VirtualClock(0) });
const o = await driver.start({ objectId: "fds", config: { command: "sleep", args: ["1000"] } });
process.stdout.write(JSON.stringify({ pid: o.pid, inherited: inheritedFds() }) + "\\n");
await driver.close();
`;

test.skipIf(!procfs)(
  "a descriptor the server inherited without close-on-exec does not reach what it spawns",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-fds-"));
    dirs.push(dir);
    const held = join(dir, "held");
    const fd = openSync(held, "w");
    // The file as the driver's process's fd 100 (fds 3 to 99 are none of its own: a gap).
    const stdio = ["ignore", "pipe", "pipe", ...Array<"ignore">(97).fill("ignore"), fd] as const;
    const server = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", SERVER], {
      stdio: [...stdio],
    });
    closeSync(fd);
    let out = "";
    let err = "";
    server.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    server.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    expect(await eventually(() => out.includes("\n")), `no answer from the driver; its stderr: ${err}`).toBe(true);
    const { pid, inherited } = JSON.parse(out) as { pid: number; inherited: number[] };
    groups.push(pid);
    // The driver's process had it as a server would: without close-on-exec.
    expect(inherited).toContain(100);
    const link = (n: number) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${n}`);
      } catch {
        return null;
      }
    };
    expect(link(0)).toBe("/dev/null");
    expect(link(100)).toBe("/dev/null");
  },
);
