// Once, before any test file runs: installs Debian's chromium for the dashboard's browser tests
// when it is missing and this is root (a fresh CI machine). apt-get can take a minute; here it
// runs outside every test and hook timeout, and never twice at once. Without root nothing is
// installed: the browser tests then fail saying what to install.

import { CHROMIUM, ensureChromium } from "../ui/browser.ts";
import { existsSync } from "node:fs";

export default function setup(): void {
  if (existsSync(CHROMIUM) || process.getuid?.() !== 0) return;
  ensureChromium();
}
