#!/usr/bin/env node
// The `vigil` command. Registers tsx so the TypeScript sources run as they are, with no build.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
