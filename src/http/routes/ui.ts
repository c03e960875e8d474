// The dashboard: `GET /ui` and `GET /ui/objects/{id}` serve HTML shells (no data, no token),
// `GET /ui/assets/{name}` the page scripts and style sheets they load. The scripts read the API
// with the tab's token (the same routes any client uses) and follow `GET /v1/events` live.
// `GET /ui/objects/{id}/timeline.svg` draws an object's timeline as a picture (ui/timeline.ts).

import type { Context, Hono } from "hono";
import { z } from "zod";
import { queryInstantSchema } from "../../contracts/instant.ts";
import type { RouteDeps } from "../deps.ts";
import { DOT_SEGMENT_PARAM, operation } from "../openapi.ts";
import { HttpProblem } from "../problem.ts";
import { ASSET_NAMES, asset } from "../ui/assets.ts";
import { objectDocument, objectsDocument } from "../ui/pages.tsx";
import { MAX_DECISIONS, pictureWindow, timelinePicture } from "../ui/timeline.ts";
import { objectIdParam, queryParams } from "../validation.ts";

/**
 * What a dashboard page may load and do: its own scripts, styles and API, nothing inline and
 * nothing from elsewhere; no framing (clickjacking), no referrer leaving the server. A shell is
 * never stored: it carries the server's time (`data-now`), which the page counts from, and a
 * browser going Back reuses a stored shell without asking (Chromium does so even under
 * no-cache), so the page counted from its first load and showed a minute-old change "in 8 min".
 */
const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

/** A dashboard file's version, sent with it and with a 304. */
const ETAG = { ETag: { description: "the file's version, for If-None-Match", schema: { type: "string" as const } } };

const page = (c: Context, document: string) => c.body(document, 200, PAGE_HEADERS);

const time = queryInstantSchema();

export const timelineQuery = z.object({
  from: time
    .optional()
    .describe("The window's start, ISO 8601 (default: 24 hours before `to`, or the object's creation)"),
  to: time.optional().describe("The window's end, ISO 8601 (default, and at most: now)"),
});

const ms = (iso: string | undefined) => (iso === undefined ? undefined : Date.parse(iso));

export function uiRoutes(app: Hono, { governor, auth }: RouteDeps): void {
  const now = () => governor.clock.now();
  app.get(
    "/ui",
    operation({
      summary: "The dashboard: objects by state and policy",
      description: "An HTML page; it holds no data, and its script reads the API with a read token the page asks for.",
      tag: "dashboard",
      scope: null,
      replies: { 200: { description: "The page", media: "text/html" } },
    }),
    (c) => page(c, objectsDocument(now())),
  );

  app.get(
    "/ui/objects/:id",
    operation({
      summary: "The dashboard page of one object",
      description: "Its lifecycle timeline, decisions with their explanations, memory, timers and usage, live.",
      tag: "dashboard",
      scope: null,
      params: { id: null },
      replies: { 200: { description: "The page", media: "text/html" } },
      problems: { 400: DOT_SEGMENT_PARAM },
    }),
    (c) => page(c, objectDocument(objectIdParam(c), now())),
  );

  app.get(
    "/ui/objects/:id/timeline.svg",
    operation({
      summary: "An object's lifecycle timeline as an SVG picture",
      description:
        "A band coloured by state over the window, the decisions as ticks under it, a time axis (UTC) and a " +
        `legend. At most ${MAX_DECISIONS} decisions, the newest, are read for one picture.`,
      tag: "dashboard",
      scope: "read",
      params: { id: null },
      query: timelineQuery,
      replies: { 200: { description: "The picture", media: "image/svg+xml" } },
      problems: { 400: DOT_SEGMENT_PARAM, 404: "no such object" },
    }),
    auth("read"),
    async (c) => {
      const id = objectIdParam(c);
      const q = queryParams(c, timelineQuery);
      const object = await governor.getObject(id);
      if (!object) throw new HttpProblem("not-found", `object "${id}" not found`);
      const window = pictureWindow({ from: ms(q.from), to: ms(q.to) }, object, now());
      return c.body(await timelinePicture(governor, object, window), 200, {
        "content-type": "image/svg+xml; charset=utf-8",
        // Opened on its own, the picture is a document: it runs nothing and loads nothing.
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        "x-content-type-options": "nosniff",
        "cache-control": "no-store",
      });
    },
  );

  app.get(
    "/ui/assets/:name",
    operation({
      summary: "A script or style sheet of the dashboard",
      tag: "dashboard",
      scope: null,
      params: { name: z.enum(ASSET_NAMES).describe("The file's name") },
      replies: {
        200: { description: "The file", media: ["text/javascript", "text/css"], headers: ETAG },
        304: { description: "Not modified since the ETag given in If-None-Match", headers: ETAG },
      },
      problems: { 400: DOT_SEGMENT_PARAM, 404: "no such file" },
    }),
    (c) => {
      const name = c.req.param("name");
      const file = asset(name);
      if (!file) throw new HttpProblem("not-found", `the dashboard has no file "${name.slice(0, 64)}"`);
      const headers = {
        "content-type": file.type,
        etag: file.etag,
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
      };
      if (notModified(c.req.header("if-none-match"), file.etag)) return c.body(null, 304, headers);
      return c.body(file.body, 200, headers);
    },
  );
}

/**
 * Whether an If-None-Match header matches `etag` (RFC 9110 13.1.2): `*`, or a list of tags
 * compared weakly (a `W/` prefix, which a compressing proxy adds, does not count).
 */
function notModified(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => opaque(tag) === opaque(etag));
}
