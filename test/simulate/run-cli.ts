// `vigil simulate` run in-process, as the CLI runs it, with what it writes collected.

import { runSimulate } from "../../src/cli/simulate.ts";

export async function runSimulateCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runSimulate(
    args,
    (s) => out.push(s),
    (s) => err.push(s),
  );
  return { code, stdout: out.join(""), stderr: err.join("") };
}
