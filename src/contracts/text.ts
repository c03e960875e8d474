// Text read from outside: a request body, a policy file, a fixture or traffic file.

import { isUtf8 } from "node:buffer";

/** The text without one leading byte order mark (which editors on Windows write). */
export const withoutBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/** UTF-8 bytes as text, without one leading byte order mark; null when they are not UTF-8. */
export function utf8Text(bytes: Buffer): string | null {
  return isUtf8(bytes) ? withoutBom(bytes.toString("utf8")) : null;
}
