// The commands a listing prints for its next page (`more:`, `older:`), written for a POSIX
// shell to run as printed: each word quoted where the shell would otherwise split or expand it,
// and the server, token and timeout the listing was run with repeated, never the token itself.

import type { Target } from "./client.ts";

/** A word as a POSIX shell reads it back: bare when nothing in it is special to the shell, else single-quoted. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/**
 * The flags that chose the server, the token and the timeout, when they were given as flags:
 * what came from VIGIL_URL, VIGIL_TOKEN or VIGIL_TIMEOUT is still there when the command is
 * run in the same shell. A token given with --token is a secret, not to be printed where a
 * terminal's scrollback or a log keeps it: in its place is `"$VIGIL_TOKEN"`, which the shell
 * fills in from the variable the CLI reads a token from anyway. An empty --token (none, over
 * VIGIL_TOKEN) is no secret, and is repeated.
 */
export function targetFlags(flags: { url?: string; token?: string; timeout?: string }, target: Target): string[] {
  const words: string[] = [];
  if (flags.url !== undefined) words.push("--url", shellWord(target.url));
  if (flags.token !== undefined) words.push("--token", flags.token === "" ? "''" : '"$VIGIL_TOKEN"');
  if (flags.timeout !== undefined) words.push("--timeout", shellWord(flags.timeout));
  return words;
}
