// The browser tests' set-up: Chromium is found where Debian installs it; when it is missing
// and the tests do not run as root, they fail saying what to install (as root, browser.ts
// installs it with apt-get).

import { expect, test } from "vitest";
import { CHROMIUM, ensureChromium } from "./browser.ts";

test("finds Debian's chromium, or says what to install", () => {
  expect(() => ensureChromium(CHROMIUM, 1000)).not.toThrow();
  expect(() => ensureChromium("/nonexistent/chromium", 1000)).toThrow(
    "the dashboard tests need Chromium at /nonexistent/chromium: install Debian's package (sudo apt-get install -y chromium)",
  );
});
