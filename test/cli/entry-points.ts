// Each `vigil` command's entry point, run in-process with its output collected: how the tests of
// every command's arguments (help.test.ts, repeated-flags.test.ts) call them alike.

import { runDecisions } from "../../src/cli/decisions.ts";
import { runEvents } from "../../src/cli/events.ts";
import { runExplain } from "../../src/cli/explain.ts";
import { runFacts } from "../../src/cli/facts.ts";
import { runObjects } from "../../src/cli/objects.ts";
import { runReplay } from "../../src/cli/replay.ts";
import { runSchema } from "../../src/cli/schema.ts";
import { runServe } from "../../src/cli/serve.ts";
import { runSimulate } from "../../src/cli/simulate.ts";
import { runTest } from "../../src/cli/test.ts";
import type { CommandName } from "../../src/cli/usage.ts";
import { runValidate } from "../../src/cli/validate.ts";

export const ENTRY_POINTS: Record<CommandName, (args: string[], out: (s: string) => void) => Promise<number>> = {
  serve: runServe,
  validate: runValidate,
  test: runTest,
  replay: runReplay,
  simulate: (args, out) => runSimulate(args, out),
  schema: runSchema,
  objects: (args, out) => runObjects(args, { out }),
  facts: (args, out) => runFacts(args, { out }),
  decisions: (args, out) => runDecisions(args, { out }),
  explain: (args, out) => runExplain(args, { out }),
  events: (args, out) => runEvents(args, { out }),
};
