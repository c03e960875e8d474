// File-system failures in words a person acts on, instead of `ENOENT: ..., open '...'`.

const WORDS: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOTDIR: "not a directory",
  EISDIR: "a directory, not a file",
  ELOOP: "a loop of symbolic links",
};

/** What is wrong, for a file-system error Node raised; null for any other error. */
export function fileErrorWords(e: unknown): string | null {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? (WORDS[code] ?? null) : null;
}
