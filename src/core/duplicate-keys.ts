// Keys written twice in one object of a JSON text. JSON.parse keeps the last of them without a
// word, so in an authored document (a policy, a fixture) a pasted-over second `"rules"` or
// `"expect"` silently drops the first: a policy that lost rules, a fixture that checks less
// than it says. Authored documents are refused for it; request bodies are not scanned.

import type { Problem } from "./errors.ts";
import { formatPath, type PathSegment } from "./paths.ts";

/**
 * An open object (its keys so far, the key whose value is being read) or array (its index),
 * under the value of its parent it is: a chain, so that deep nesting costs a frame a level.
 */
type Frame = { parent: Frame | null; at: PathSegment; depth: number } & (
  { kind: "object"; keys: Set<string>; key: string | null } | { kind: "array"; index: number }
);

/** The path of `last` in `frame`: each enclosing value's place in its parent, the document's none. */
const pathOf = (frame: Frame, last: PathSegment): string => {
  const segments = [last];
  for (let f = frame; f.parent !== null; f = f.parent) segments.push(f.at);
  return formatPath(segments.reverse());
};

/** Where the value that starts next sits in the open object or array `f`. */
const placeIn = (f: Frame | null): PathSegment => (f === null ? "" : f.kind === "array" ? f.index : (f.key ?? ""));

/**
 * The keys that appear more than once in one object of `text`, at their paths (at most `max`).
 * `text` must be valid JSON (parse it first): the scan follows its brackets and strings only.
 * It stops at nesting deeper than `maxDepth` (the document is depth 1), which its callers refuse
 * for its depth: the paths of keys far below would be as long as the document.
 */
export function duplicateKeyProblems(text: string, max = 20, maxDepth = 64): Problem[] {
  const problems: Problem[] = [];
  let top = null as Frame | null;
  for (let i = 0; i < text.length && problems.length < max; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const depth = (top?.depth ?? 0) + 1;
      if (depth > maxDepth) break;
      const at = placeIn(top);
      top =
        c === 0x7b
          ? { parent: top, at, depth, kind: "object", keys: new Set(), key: null }
          : { parent: top, at, depth, kind: "array", index: 0 };
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) top = top?.parent ?? null;
    else if (c === 0x2c /* , */) {
      if (top?.kind === "array") top.index++;
      else if (top?.kind === "object") top.key = null;
    } else if (c === 0x22 /* " */) {
      let end = i + 1;
      while (text.charCodeAt(end) !== 0x22) end += text.charCodeAt(end) === 0x5c /* \ */ ? 2 : 1;
      // A string in an object where no key has been read since `{` or `,` is a key.
      if (top?.kind === "object" && top.key === null) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key))
          problems.push({
            path: pathOf(top, key),
            message: `the key ${JSON.stringify(key)} is written more than once in this object; JSON keeps only the last, so remove or rename the others`,
          });
        top.keys.add(key);
        top.key = key;
      }
      i = end;
    }
  }
  return problems;
}
