#!/usr/bin/env node
// The `vigil` command. Registers tsx so the TypeScript sources run as they are, with no build.
//
// `vigil serve` is often PID 1 in a container, where a signal nothing handles is ignored, and
// loading the code takes most of a second: a SIGINT, SIGTERM or SIGHUP that comes meanwhile is
// held here, and handled as soon as `serve` handles signals (src/cli/serve.ts takes them).
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"];
const held = [];
const hold = (signal) => held.push(signal);
if (process.argv[2] === "serve") for (const s of SIGNALS) process.on(s, hold);
process.vigilHeldSignals = () => {
  for (const s of SIGNALS) process.off(s, hold);
  return held.splice(0);
};

// Imported only now, so that the handlers above are set before it loads.
const { register } = await import("tsx/esm/api");
register();
await import("../src/cli/main.ts");
