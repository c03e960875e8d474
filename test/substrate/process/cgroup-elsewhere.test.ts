// VIGIL_PROCESS_CGROUP may name a cgroup hierarchy mounted anywhere, not only under
// /sys/fs/cgroup. A tree spawned there is found again from its stored observation after a
// restart (it came back as a bare process group, and a child that had left the group with
// setsid outlived the object's DELETE). A stored path that is not on a cgroup filesystem is
// never taken for one, whatever files it holds.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openCgroupParent, treeOfObservation } from "../../../src/substrate/process/cgroup.ts";

const scratch = mkdtempSync(join(tmpdir(), "vigil-cgroup-elsewhere-"));
const mount = join(scratch, "mnt");
mkdirSync(mount);
// A cgroup2 hierarchy mounted outside /sys/fs/cgroup: needs root, and cgroup2 in the kernel.
const mounted = process.getuid?.() === 0 && spawnSync("mount", ["-t", "cgroup2", "none", mount]).status === 0;
const dir = join(mount, "vigil-elsewhere-test", "obj-w1.0123");

beforeAll(() => {
  if (mounted) mkdirSync(dir, { recursive: true });
});

afterAll(() => {
  if (mounted) {
    for (const d of [dir, join(mount, "vigil-elsewhere-test")]) rmdirSync(d);
    spawnSync("umount", [mount]);
  }
  rmSync(scratch, { recursive: true, force: true });
});

describe.skipIf(!mounted)(
  mounted ? `a cgroup2 hierarchy mounted at ${mount}` : "a cgroup2 mount elsewhere: SKIPPED, not root or no cgroup2",
  () => {
    test("an observation naming an object's cgroup there is taken back as that cgroup", () => {
      const tree = treeOfObservation({ cgroup: dir });
      expect(tree?.identity()).toEqual({ cgroup: dir });
    });
  },
);

test("a directory off any cgroup filesystem is not taken for a cgroup, though it holds cgroup.freeze", () => {
  const fake = join(scratch, "vigil", "obj-w1.0123");
  mkdirSync(fake, { recursive: true });
  writeFileSync(join(fake, "cgroup.freeze"), "0");
  writeFileSync(join(fake, "cgroup.procs"), "");
  expect(treeOfObservation({ cgroup: fake })).toBeNull();
});

// Found in review: `auto` tries /sys/fs/cgroup/vigil first, and on a host whose /sys/fs/cgroup
// is a tmpfs of v1 hierarchies (a hybrid host) it made a plain directory there, refused it, and
// left it behind; so did a VIGIL_PROCESS_CGROUP naming a new directory anywhere else.
test("a cgroup parent named off any cgroup filesystem is refused without a directory made for it", () => {
  const parent = join(scratch, "not-a-cgroup");
  expect(() => openCgroupParent(parent)).toThrow(
    `cannot use the cgroup ${parent}: ${parent} is not in a cgroup v2 hierarchy (no cgroup.freeze) nor in the v1 freezer hierarchy`,
  );
  expect(existsSync(parent)).toBe(false);
});
