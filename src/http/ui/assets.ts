// The dashboard's static files: plain browser JavaScript modules and style sheets, kept next
// to this module and served as they are (no bundler, no build step). They are read once, on
// the first request for any of them, and kept.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

/** Every file the dashboard serves under /ui/assets/, by name. */
export const ASSET_NAMES = [
  "dashboard.css",
  "object.css",
  "api.js",
  "dom.js",
  "sse.js",
  "segments.js",
  "hit-zones.js",
  "timeline.js",
  "explain.js",
  "objects.js",
  "object.js",
] as const;
export type AssetName = (typeof ASSET_NAMES)[number];

export interface Asset {
  body: string;
  type: string;
  /** A strong validator of the body, so that a browser revalidates cheaply. */
  etag: string;
}

const TYPES: Record<string, string> = {
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
};

function load(name: AssetName): Asset {
  const body = readFileSync(new URL(`./assets/${name}`, import.meta.url), "utf8");
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
  return { body, type: TYPES[name.slice(name.lastIndexOf(".") + 1)]!, etag };
}

let assets: Map<string, Asset> | null = null;

/** The asset of that name, or undefined; the files are read on the first call. */
export function asset(name: string): Asset | undefined {
  assets ??= new Map(ASSET_NAMES.map((n) => [n, load(n)]));
  return assets.get(name);
}
