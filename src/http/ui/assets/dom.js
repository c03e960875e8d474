// Small DOM helpers for the dashboard's pages: elements built with text nodes (never HTML
// strings, so no value from the API is ever parsed as markup), times, durations, badges.

import { now } from "./api.js";

/** The first element matching `selector`. */
export const $ = (selector, root = document) => root.querySelector(selector);

/**
 * An element: `attrs` are attributes (`class`, `href`, `aria-*`, ...), except `on*` functions
 * (listeners), `text` (its text) and `dataset`; children are nodes or strings (as text).
 */
export function h(tag, attrs = {}, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, as {@link h}. */
export function s(tag, attrs = {}, ...children) {
  return build(document.createElementNS("http://www.w3.org/2000/svg", tag), attrs, children);
}

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") el.textContent = String(value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(typeof child === "string" || typeof child === "number" ? String(child) : child);
  }
  return el;
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  for (const child of children.flat(Infinity))
    if (child !== undefined && child !== null && child !== false) el.append(child);
  return el;
}

const UNITS = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["min", 60_000],
  ["s", 1000],
];

/** A duration in milliseconds as the two largest units: "2 h 5 min", "40 s", "0 s". */
export function duration(ms) {
  const parts = [];
  let rest = Math.max(0, Math.round(ms));
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0 || (unit === "s" && parts.length === 0)) parts.push(`${n} ${unit}`);
    rest -= n * size;
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/** A moment relative to the server's now: "5 min ago", "in 2 h". */
export function relative(ms) {
  const delta = ms - now();
  if (Math.abs(delta) < 1000) return "now";
  return delta < 0 ? `${duration(-delta)} ago` : `in ${duration(delta)}`;
}

/**
 * The reader's locale's formats, made once each: `toLocaleString` makes one for every call,
 * about a third of a millisecond, and a page of decisions formats hundreds of times.
 */
const formats = new Map();
/** The reader's locale's format with these options, made once (`key` names the options). */
function formatOf(key, options) {
  let f = formats.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat(undefined, options);
    formats.set(key, f);
  }
  return f;
}

function format(withDate, seconds, withYear) {
  return formatOf(`${withDate} ${seconds} ${withYear}`, {
    ...(withDate ? { month: "short", day: "numeric" } : {}),
    ...(withYear ? { year: "numeric" } : {}),
    hour: "2-digit",
    minute: "2-digit",
    ...(seconds ? { second: "2-digit" } : {}),
  });
}

/** Whether `d` is in another year than the server's now (in the reader's time zone). */
const otherYear = (d) => new Date(now()).getFullYear() !== d.getFullYear();

/**
 * A time as the reader's locale writes it, with the date when it is not today, and the year
 * when it is not this year (a decision kept from last March is not this March's).
 */
export function clockTime(ms, opts = {}) {
  const d = new Date(ms);
  const sameDay = new Date(now()).toDateString() === d.toDateString();
  return format(!sameDay || opts.date === true, opts.seconds !== false, otherYear(d)).format(d);
}

/**
 * The reader's time zone at `ms`, as the locale abbreviates it ("UTC", "CET", "GMT+2"): clock
 * times are the browser's, which need not be the zone of the server's logs or of the API's times.
 */
export function zoneName(ms) {
  const parts = formatOf("zone", { timeZoneName: "short" }).formatToParts(new Date(ms));
  return parts.find((p) => p.type === "timeZoneName")?.value ?? "";
}

const calendarFormats = {
  day: { month: "short", day: "numeric" },
  month: { month: "short", year: "numeric" },
  year: { year: "numeric" },
};

/**
 * A date without its time as the reader's locale writes it: `unit` "day" (its day and month,
 * and its year when it is not this year), "month" or "year".
 */
export function calendarDate(ms, unit) {
  const d = new Date(ms);
  const withYear = unit === "day" && otherYear(d);
  const options = { ...calendarFormats[unit], ...(withYear ? { year: "numeric" } : {}) };
  return formatOf(`calendar ${unit} ${withYear}`, options).format(d);
}

/** A `<time>`: relative text, the exact time in its title and `datetime`. */
export function timeEl(iso, mode = "relative") {
  if (iso === null || iso === undefined) return h("span", { class: "muted", text: "—" });
  const ms = Date.parse(iso);
  const text = mode === "relative" ? relative(ms) : clockTime(ms);
  return h("time", { datetime: iso, title: new Date(ms).toString(), dataset: { mode }, text });
}

/** Brings every `<time>` of the page up to date (relative times age). */
export function refreshTimes(root = document) {
  for (const t of root.querySelectorAll("time[data-mode=relative]")) t.textContent = relative(Date.parse(t.dateTime));
}

/** A lifecycle state as a badge (colour and text). */
export const badge = (state) => h("span", { class: `badge s-${state}`, text: state });

/**
 * Characters that reorder or hide text around them (bidirectional overrides and isolates, marks,
 * C1 controls and DEL): in a value, they could draw one memory key as another. JSON.stringify
 * escapes C0 controls already.
 */
const HIDDEN = /[\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
const escaped = (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** JSON as text to show: those characters as `\uXXXX` escapes (the same JSON value). */
const json = (value, indent) =>
  value === undefined ? "undefined" : JSON.stringify(value, null, indent).replace(HIDDEN, escaped);

/** A JSON string token in {@link json}'s text (its escapes included). */
const STRING = /"(?:[^"\\]|\\.)*"/g;

/**
 * {@link json}'s text (indented by `indent`, long strings left whole) as nodes to show, each
 * string's content in a `<bdi>` of its own: right-to-left text in a key or a value is drawn
 * inside its quotes, and cannot carry the colon and the value beside it along (`"א": 1` drawn as
 * `1 :"א`). Their text is {@link json}'s.
 */
export function jsonNodes(value, indent) {
  const text = json(value, indent);
  const nodes = [];
  let at = 0;
  for (const m of text.matchAll(STRING)) {
    nodes.push(`${text.slice(at, m.index)}"`, h("bdi", { text: m[0].slice(1, -1) }), '"');
    at = m.index + m[0].length;
  }
  nodes.push(text.slice(at));
  return nodes.filter((n) => n !== "");
}
