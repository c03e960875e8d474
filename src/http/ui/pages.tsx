// The dashboard's HTML shells, rendered on the server with hono's JSX. A shell holds no data
// (it needs no token): the page script (assets/*.js) asks the API for everything, with the
// tab's token, and fills the empty regions laid out here.
//
// The pragma below repeats tsconfig.json's JSX settings, so that the file compiles the same
// when tsx runs the server from another directory (tsx reads tsconfig.json from the cwd).
/** @jsxRuntime automatic @jsxImportSource hono/jsx */

import type { Child } from "hono/jsx";
import { LIFECYCLE_STATES, OUTCOMES } from "../../core/types.ts";

/** The state names in the order the page lists and draws them. */
const STATES = LIFECYCLE_STATES;

/** A heading and its region, labelled by the heading for screen readers. */
function Section(props: { id: string; title: string; class?: string; children?: Child }) {
  return (
    <section class={props.class ?? "panel"} aria-labelledby={`${props.id}-h`} id={props.id}>
      <h2 id={`${props.id}-h`}>{props.title}</h2>
      {props.children}
    </section>
  );
}

/** What every page has: the header with the live status, the token form, and one script. */
function Layout(props: {
  title: string;
  script: string;
  /** Style sheets besides dashboard.css. */
  styles?: string[];
  page: string;
  /** The server's clock (epoch ms), so the page counts time as the server does. */
  now: number;
  objectId?: string;
  children?: Child;
}) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light" />
        <title>{props.title} · Vigil</title>
        {/* No favicon: without this line every page would ask for /favicon.ico, a 404. */}
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/ui/assets/dashboard.css" />
        {(props.styles ?? []).map((name) => (
          <link rel="stylesheet" href={`/ui/assets/${name}`} />
        ))}
        <script type="module" src={`/ui/assets/${props.script}`}></script>
      </head>
      <body data-now={String(props.now)}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/ui">
            Vigil
          </a>
          <nav aria-label="Main">
            <a href="/ui">Objects</a>
            <a href="/docs">API reference</a>
          </nav>
          <p id="live" class="live" role="status" aria-live="polite" data-status="off">
            Not connected
          </p>
          <button id="forget" type="button" class="quiet" hidden>
            Forget token
          </button>
        </header>
        <section id="auth" class="auth" aria-labelledby="auth-h" hidden>
          <h2 id="auth-h">Sign in</h2>
          <p>This server needs a token with the read scope. It is kept for this tab only, until you close it.</p>
          <form id="auth-form">
            <label for="token">Read token</label>
            <input
              id="token"
              name="token"
              type="password"
              autocomplete="off"
              spellcheck={false}
              required
              aria-describedby="auth-error"
            />
            <button type="submit">Use token</button>
          </form>
          <p id="auth-error" class="error" role="alert"></p>
        </section>
        {/* A read of the page that failed (not for want of a token): api.js says why, and tries again. */}
        <p id="load-error" class="load-error error" role="alert" hidden></p>
        <main id="main" data-page={props.page} data-object-id={props.objectId}>
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** `GET /ui`: the objects, filtered by state and policy, a page at a time. */
export function ObjectsPage(props: { now: number }) {
  return (
    <Layout title="Objects" script="objects.js" page="objects" now={props.now}>
      <h1>Objects</h1>
      <form id="filters" class="filters" role="search" aria-label="Filter objects">
        <label for="f-state">State</label>
        <select id="f-state" name="state">
          <option value="">any</option>
          {STATES.map((s) => (
            <option value={s}>{s}</option>
          ))}
        </select>
        <label for="f-policy">Policy</label>
        <select id="f-policy" name="policy">
          <option value="">any</option>
        </select>
        <label for="f-limit">Per page</label>
        <select id="f-limit" name="limit">
          {[25, 50, 100, 200].map((n) => (
            <option value={String(n)} selected={n === 50}>
              {n}
            </option>
          ))}
        </select>
        <button type="submit">Apply</button>
      </form>
      <p id="list-status" class="status" role="status" aria-live="polite"></p>
      <div class="table-wrap">
        <table id="objects" class="list">
          <caption class="sr-only">Objects, by id</caption>
          <thead>
            <tr>
              <th scope="col">Object</th>
              <th scope="col">State</th>
              <th scope="col">Since</th>
              <th scope="col">Policy</th>
              <th scope="col">Substrate</th>
              <th scope="col">Next timer</th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Pages of objects">
        <button id="first" type="button" disabled>
          First page
        </button>
        <button id="next" type="button" disabled>
          Next page
        </button>
      </nav>
    </Layout>
  );
}

/** `GET /ui/objects/{id}`: one object's timeline, decisions, explanation, memory, timers, usage. */
export function ObjectPage(props: { id: string; now: number }) {
  return (
    <Layout
      title={props.id}
      script="object.js"
      styles={["object.css"]}
      page="object"
      now={props.now}
      objectId={props.id}
    >
      <p class="crumbs">
        <a href="/ui">Objects</a> / <span>{props.id}</span>
      </p>
      <h1>
        <span class="sr-only">Object </span>
        <code>{props.id}</code> <span id="state-badge"></span>
      </h1>
      <p id="object-status" class="status" role="status" aria-live="polite"></p>
      <dl id="summary" class="summary"></dl>
      <Section id="timeline" title="Lifecycle timeline" class="panel wide">
        <div class="timeline-tools">
          <p id="timeline-range" class="muted"></p>
          {/* Shown once the timeline is drawn: before, it had no picture to open ("#", this very page). */}
          <a id="picture" href="#" target="_blank" rel="noopener" hidden>
            Open as picture
          </a>
        </div>
        {/* Why the picture, read with the tab's token, did not open (the object gone, the server down). */}
        <p id="picture-error" class="error status" role="alert"></p>
        <div id="timeline-chart" class="chart"></div>
        <ul class="legend" aria-label="States">
          {STATES.map((s) => (
            <li>
              <span class={`swatch s-${s}`} aria-hidden="true"></span>
              {s}
            </li>
          ))}
        </ul>
        {/* The marks' colours too: without it a sighted keyboard user, who gets no tooltip, could not
            tell a wake from a hold (hover and a screen reader say the outcome in words). Each swatch
            is the mark's own triangle, styled by the same rules (a hollow one for no outcome). */}
        <ul class="legend" aria-label="Decisions by outcome">
          {OUTCOMES.map((o) => (
            <li>
              <svg class={`swatch mark-swatch o-${o}`} viewBox="0 0 12 12" aria-hidden="true">
                <path d="M1 2 h10 l-5 8 z" />
              </svg>
              {o === "none" ? "no outcome" : o}
            </li>
          ))}
        </ul>
      </Section>
      <div class="columns">
        <Section id="decisions" title="Decisions">
          <div class="table-wrap tall">
            <table class="list compact">
              <caption class="sr-only">Decisions, newest first</caption>
              <thead>
                <tr>
                  <th scope="col" id="decision-at">
                    At
                  </th>
                  <th scope="col">Trigger</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">State</th>
                  <th scope="col">
                    <span class="sr-only">Explanation</span>
                  </th>
                </tr>
              </thead>
              <tbody id="decision-rows"></tbody>
            </table>
          </div>
          <button id="older" type="button" hidden>
            Load older decisions
          </button>
          {/* Why the older decisions did not come (the server down or restarting): the click did nothing otherwise. */}
          <p id="older-error" class="error status" role="alert"></p>
        </Section>
        <Section id="explanation" title="Explanation">
          <div id="explanation-body" tabindex={-1}>
            <p class="muted">Choose a decision (in the list or on the timeline) to see why it was taken.</p>
          </div>
        </Section>
      </div>
      <div class="columns three">
        <Section id="memory" title="Memory">
          {/* Focusable, to scroll it by keyboard: named by its heading, not announced by its text alone. */}
          <pre id="memory-json" class="json" tabindex={0} aria-labelledby="memory-h"></pre>
        </Section>
        <Section id="timers" title="Pending timers">
          <div id="timer-list"></div>
        </Section>
        <Section id="usage" title="Usage">
          <div id="usage-body"></div>
        </Section>
      </div>
    </Layout>
  );
}

/** The whole document of `GET /ui`. */
export const objectsDocument = (now: number): string => `<!doctype html>${String(<ObjectsPage now={now} />)}`;

/** The whole document of `GET /ui/objects/{id}`; the id is escaped by the JSX renderer. */
export const objectDocument = (id: string, now: number): string =>
  `<!doctype html>${String(<ObjectPage id={id} now={now} />)}`;
