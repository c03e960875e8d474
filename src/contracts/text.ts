// Text read from outside: a request body, a policy file, a fixture or traffic file, standard input.

import { isUtf8 } from "node:buffer";
import { readFileSync } from "node:fs";

/** Why a file's text is refused when its bytes are not UTF-8. */
export const NOT_UTF8 = "the file is not valid UTF-8: save it as UTF-8";

/** The text without one leading byte order mark (which editors on Windows write). */
export const withoutBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** UTF-8 bytes as text, without one leading byte order mark; null when they are not UTF-8. */
export function utf8Text(bytes: Buffer): string | null {
  return isUtf8(bytes) ? withoutBom(bytes.toString("utf8")) : null;
}

/**
 * A stream's whole text (standard input), decoded once at the end, so that a character whose
 * bytes straddle two chunks stays whole; without a byte order mark. Throws when the bytes are
 * not UTF-8.
 */
export async function readAllText(stream: AsyncIterable<Buffer | string>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  const text = utf8Text(Buffer.concat(chunks));
  if (text === null) throw new Error("not valid UTF-8");
  return text;
}

/**
 * A file's text, read as the server reads a policy file: UTF-8 only (a lenient decoding would
 * change its strings without a word), without a byte order mark. Throws when it cannot be read,
 * or with {@link NOT_UTF8}.
 */
export function readTextFile(file: string): string {
  const text = utf8Text(readFileSync(file));
  if (text === null) throw new Error(NOT_UTF8);
  return text;
}
