// Text a server sent, made safe to print on a terminal: what the client commands show of it in text.

/**
 * Whether a terminal acts on the character, or it reorders or hides the text around it: C0 and
 * C1 controls and DEL (an ESC starts a sequence that clears the screen or sets the window's
 * title; a line break starts a line of its own), bidirectional overrides and isolates, invisible
 * marks (the dashboard's dom.js escapes the same in memory).
 */
const unsafe = (c: number) =>
  c <= 0x1f ||
  (c >= 0x7f && c <= 0x9f) ||
  c === 0x61c ||
  (c >= 0x200b && c <= 0x200f) ||
  (c >= 0x2028 && c <= 0x202e) ||
  (c >= 0x2060 && c <= 0x2069) ||
  c === 0xfeff;

/**
 * Text the server sent, as one line to print: each character {@link unsafe} as a `\uXXXX`
 * escape. What it says is the server's, and the words of drivers, processes and policy authors
 * before it (an action's error names the command a PUT gave).
 */
export function printable(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += unsafe(c) ? `\\u${c.toString(16).padStart(4, "0")}` : text[i];
  }
  return out;
}

/**
 * Writes a command's message to stderr with each line {@link printable}: what a command says
 * quotes what it was given (a file's name, a directory, a value), and an ESC in one reached the
 * terminal (`vigil validate --rules "$(printf '\\e[2J')"` cleared the screen). The line breaks
 * the message has are kept.
 */
export const writeStderr = (text: string): void => {
  process.stderr.write(text.split("\n").map(printable).join("\n"));
};
