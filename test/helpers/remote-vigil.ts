// A `vigil serve` process on a remote database (the fake Hrana server, hrana-fake.ts), started
// before a file's tests and stopped after them (its log printed with VIGIL_SHOW_LOG set).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { startHranaFake, type HranaFake } from "./hrana-fake.ts";
import { startVigil, type VigilProcess } from "./process.ts";

export interface RemoteVigil {
  fake: HranaFake;
  vigil: VigilProcess;
}

/** Registers the file's server and its fake database; the fields are set once `beforeAll` ran. */
export function remoteVigil(name: string, env: Record<string, string> = {}): RemoteVigil {
  const dir = mkdtempSync(join(tmpdir(), `vigil-${name}-`));
  const r = {} as RemoteVigil;
  beforeAll(async () => {
    r.fake = await startHranaFake(join(dir, "remote.db"));
    r.vigil = await startVigil({ VIGIL_DB_URL: r.fake.url, ...env });
  });
  afterAll(async () => {
    if (process.env.VIGIL_SHOW_LOG) console.log(r.vigil?.log());
    r.vigil?.kill("SIGKILL");
    await r.fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return r;
}
