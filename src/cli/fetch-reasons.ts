// Why a request got no reply (a connection refused, an unknown host...), in the words a person reads.

/** The reasons a connection fails, as a person reads them. */
const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "unknown host",
  EAI_AGAIN: "the host name could not be resolved",
  ETIMEDOUT: "timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_CONNECT_TIMEOUT: "timed out",
  UND_ERR_SOCKET: "the connection closed",
  CERT_HAS_EXPIRED: "its TLS certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "its TLS certificate is self-signed",
};

/** Why fetch failed: undici puts the socket's error in `cause`, sometimes inside an AggregateError. */
export function reasonOf(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause ?? error;
  const c = cause as { code?: string; errors?: { code?: string }[]; message?: string };
  const code = c.code ?? c.errors?.[0]?.code;
  return (code && REASONS[code]) ?? code ?? c.message ?? String(cause);
}
