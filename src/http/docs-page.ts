// `GET /docs`: the API document rendered by Scalar's API reference. The page runs on the
// dashboard's origin, where a browser tab keeps the token it signed in with (sessionStorage) and
// where, with no tokens configured, any script may write. So the one script it loads from
// elsewhere is pinned: an exact version of Scalar's browser bundle on jsDelivr, with its
// Subresource Integrity digest (the browser refuses any other bytes under that address), and a
// Content-Security-Policy that admits that script and the page's own start-up script, nothing
// else. Scalar's Hono integration loads whatever version the CDN calls latest and cannot add an
// integrity attribute, hence this page of our own.

import { createHash } from "node:crypto";
import type { Context } from "hono";

/** The Scalar release the page loads; its digest below is of this file in its npm package. */
export const SCALAR_VERSION = "1.76.0";
export const SCALAR_SCRIPT = `https://cdn.jsdelivr.net/npm/@scalar/api-reference@${SCALAR_VERSION}/dist/browser/standalone.js`;
/** sha384 of `dist/browser/standalone.js` in `@scalar/api-reference@1.76.0` (npm's tarball). */
export const SCALAR_INTEGRITY = "sha384-oH1C0RwqcwbVXkC+r8A+4qRoyEUQdtxAzOwumkxZtQBBcsy61FOoPt7B50OVJYYQ";

// Scalar's own fonts come from its servers, its developer tools and AI agent send the document
// to them, and its "Open API Client" button opens Scalar's site on the document's address: the
// page uses the browser's fonts and leaves the rest out. (Each operation's "Test Request" stays:
// it runs in this page, against this server.)
const CONFIGURATION = {
  url: "/openapi.json",
  withDefaultFonts: false,
  showDeveloperTools: "never",
  hideClientButton: true,
  agent: { disabled: true },
  mcp: { disabled: true },
};
// Without the bundle (no way to the CDN: a server on a private network, or bytes refused for not
// being the pinned ones) the page says so and links the document itself, where it was left blank.
const UNREACHED =
  "The API reference could not load Scalar's script from cdn.jsdelivr.net (no way to reach it from " +
  "this browser, or the bytes it got were not the release Vigil pins). The API document itself is ";
const START =
  `if (typeof Scalar === "undefined") { const app = document.getElementById("app"); ` +
  `app.append(${JSON.stringify(UNREACHED)}, Object.assign(document.createElement("a"), ` +
  `{ href: "/openapi.json", textContent: "/openapi.json" }), "."); app.setAttribute("role", "alert"); } ` +
  `else Scalar.createApiReference("#app", ${JSON.stringify(CONFIGURATION)});`;
const startDigest = createHash("sha256").update(START).digest("base64");

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Vigil API</title>
    <link rel="icon" href="data:," />
  </head>
  <body>
    <div id="app"></div>
    <script src="${SCALAR_SCRIPT}" integrity="${SCALAR_INTEGRITY}" crossorigin="anonymous"></script>
    <script>${START}</script>
  </body>
</html>
`;

const HEADERS = {
  "content-type": "text/html; charset=utf-8",
  // Scalar adds its styles as <style> elements and draws some icons from data: URLs (the page's
  // icon is one: with none named, a browser asks for /favicon.ico, a 404).
  "content-security-policy":
    `default-src 'none'; script-src ${SCALAR_SCRIPT} 'sha256-${startDigest}'; style-src 'unsafe-inline'; ` +
    "img-src 'self' data:; font-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; " +
    "frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

export const docsPage = (c: Context) => c.body(PAGE, 200, HEADERS);
