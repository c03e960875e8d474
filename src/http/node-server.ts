// The Node side of the HTTP server (main.ts; the tests build theirs with it too): Node's `http`
// server and hono's adapter, with every request either door refuses answered as a problem.
//
// Left to themselves, two places answer with a bare status and no body: hono's adapter, for a
// request it cannot make a web Request of (a Host with a space, `%` or an unclosed `[`; no Host
// at all; a backslash in the path), and Node's parser, for bytes that are not HTTP (and a
// missing Host on HTTP/1.1, which is left to the adapter here so that it gets the same problem).
// An HTTP/1.0 request may have no Host: it is served at the address it reached (ownHost).
//
// The file is past 400 lines because a connection's requests are read, run in turn and answered
// here together: which run, which wait, when the connection is read and when it closes.

import { getRequestListener, RequestError } from "@hono/node-server";
import type { Hono } from "hono";
import { createServer, maxHeaderSize, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { fieldCount } from "./fields.ts";
import type { Duplex } from "node:stream";
import { REQUEST_ID_HEADER, requestId } from "./access-log.ts";
import { DISCARD_LIMIT, discardBody } from "./discard-body.ts";
import { notLoopback } from "./loopback.ts";
import { ADDRESSABLE_OBJECT_ID_HELP } from "../core/object.ts";
import type { Problem } from "../core/errors.ts";
import { problemBody, problemResponse, PROBLEM_CONTENT_TYPE, type ProblemSlug } from "./problem.ts";

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Hono's adapter for the app. A Host no URL takes (none, a space, `%`, `1.2.3.4.5`) is a 400
 * `malformed-request` here, before the adapter or the app builds a URL of it and throws; so is
 * any other request the adapter cannot build. Anything else thrown out of the app (its own error
 * handler catches what routes throw) is reported and a 500 problem.
 */
export function honoListener(
  app: Hono,
  report: (error: unknown) => void,
  /** No tokens: only loopback Host names and Origins are served (the app's own check, loopback.ts). */
  loopbackOnly = false,
): Listener {
  const adapter = getRequestListener(app.fetch, {
    errorHandler: (e) => {
      if (e instanceof RequestError) return problemResponse("malformed-request", requestErrorDetail(e));
      report(e);
      return problemResponse("internal", "the server failed to answer this request");
    },
  });
  return (req, res) => {
    const problem = hostProblem(req.headers.host);
    if (problem !== null) return void refuse(req, res, "malformed-request", problem);
    // A request no route may answer (unroutable): refused after the same loopback check as any
    // other, before any route or token.
    const early = unroutable(req);
    // A scheme is case-insensitive (RFC 3986 3.1), but hono's adapter reads the absolute form only
    // when it is written `http://` or `https://`: `HTTP://host/path` was an unreadable URL to it.
    if (early === null && req.url !== undefined && /^https?:\/\//i.test(req.url) && !/^https?:/.test(req.url))
      req.url = req.url.replace(SCHEME, (scheme) => scheme.toLowerCase());
    if (early !== null) {
      const refused = loopbackOnly
        ? notLoopback([req.headers.host!], req.headers.origin, fieldCount(req, "origin"))
        : null;
      if (refused !== null) return void refuse(req, res, "forbidden", refused);
      return void refuse(req, res, early.slug, early.detail, early.headers, early.errors);
    }
    // A reply sent before its request's body was all received (a 401, a 404, a 413): the rest
    // is let go within discardBody's bound, before hono's adapter, at the reply's finish, would
    // read on for up to 500 ms or 64 MiB (which a client without a token could ask for at will).
    res.once("prefinish", () => {
      if (!req.complete) discardBody(req, res);
    });
    void adapter(req, res);
  };
}

/**
 * Refuses a request before either door reads its body (a bad Host, a fast path's gate): the
 * problem is sent, and the rest of the body let go within discardBody's bound. Returns true
 * (answered).
 */
export function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  slug: ProblemSlug,
  detail: string,
  headers: Record<string, string> = {},
  errors?: Problem[],
): true {
  const problem = problemBody(slug, detail, errors);
  const body = JSON.stringify(problem);
  res.writeHead(problem.status, {
    ...headers,
    "content-type": PROBLEM_CONTENT_TYPE,
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
  discardBody(req, res);
  return true;
}

/** The refusal of a request no route may answer, or null. */
function unroutable(
  req: IncomingMessage,
): { slug: ProblemSlug; detail: string; headers?: Record<string, string>; errors?: Problem[] } | null {
  // `OPTIONS *` (a question about the whole server, RFC 9112 3.2.4) is well-formed HTTP, which no
  // URL can hold: a 405 (OPTIONS is served on one route only, /v1/cloudevents).
  if (req.method === "OPTIONS" && req.url === "*")
    return {
      slug: "method-not-allowed",
      detail: "OPTIONS * is not served",
      headers: { allow: "GET, HEAD, PUT, POST, DELETE, OPTIONS" },
    };
  // The absolute form of a target names the scheme: only http and https are served here. (The
  // adapter refuses another one as an unreadable URL, but only after the checks below, which
  // read the path alone, have routed `ftp://host/v1/objects/.` to a 422 at `$.id`.)
  const scheme = req.url === undefined ? null : SCHEME.exec(req.url);
  if (scheme !== null && !/^https?$/i.test(scheme[1]!))
    return {
      slug: "malformed-request",
      detail: `the request target's scheme is ${JSON.stringify(scheme[1])}: only http and https are served (or send the path alone)`,
    };
  // An object id that is a dot segment (`%2E%2E`, or `..` sent as is): the adapter's URL would
  // remove it, and another route answer (`POST /v1/objects/%2E%2E/facts` the batch route). It
  // is refused as the bad id it is.
  const dotId = dotObjectId(req.url);
  if (dotId !== null)
    return {
      slug: "validation",
      detail: "invalid object id",
      errors: [{ path: "$.id", message: `${JSON.stringify(dotId)} names no object: ${ADDRESSABLE_OBJECT_ID_HELP}` }],
    };
  // A dot segment anywhere else in the path (`/v1/objects/w1/%2E%2E/%2E%2E/facts`): the URL
  // removes it too, and the route of what is left would answer (there, the batch route, which
  // applied the body). A path that names a resource through `.` or `..` is not served.
  if (dotSegmentIn(req.url))
    return {
      slug: "malformed-request",
      detail: "the path holds a dot segment (`.` or `..`, as is or percent-encoded): name the resource itself",
    };
  return null;
}

/** `/v1/objects/{id}` and the paths under it. */
const OBJECT_PATH = /^\/v1\/objects\/([^/?#]*)/;
/** A dot segment, `.` or `..`, each dot as is or percent-encoded (RFC 3986 5.2.4; a URL removes them). */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/** The scheme and authority of a request target in absolute form (`http://host:port`, RFC 9112 3.2.2). */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/** The scheme of a request target in absolute form. */
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/**
 * A request target as its path and query: the absolute form's scheme and authority taken off
 * (the URL the adapter builds reads the path from it as from the origin form, so an id there
 * was refused as a dot segment elsewhere, a 400, where README gives a 422 at `$.id`).
 */
const originForm = (url: string): string => url.replace(ABSOLUTE_FORM, "");

/** The id in a request target's `/v1/objects/{id}...` when it is a dot segment (as sent), or null. */
export function dotObjectId(url: string | undefined): string | null {
  const m = url === undefined ? null : OBJECT_PATH.exec(originForm(url));
  return m && DOT_SEGMENT.test(m[1]!) ? m[1]! : null;
}

/** Whether a request target's path (before `?`) has a segment that is `.` or `..`, as is or percent-encoded. */
export function dotSegmentIn(url: string | undefined): boolean {
  if (url === undefined) return false;
  const path = originForm(url);
  const q = path.indexOf("?");
  return (q === -1 ? path : path.slice(0, q)).split("/").some((segment) => DOT_SEGMENT.test(segment));
}

/** The last Host found good (clients keep sending the same one): checked once, for both doors. */
let goodHost: string | undefined;

/** Why a request's Host header cannot be served, or null. */
export function hostProblem(host: string | undefined): string | null {
  if (host === undefined) return "the request has no Host header";
  if (host === goodHost) return null;
  // A URL must take it, and read it as written: `0x7f.1` (which a URL reads as 127.0.0.1) is
  // refused by hono's adapter on some ports and not others, so it is refused here on every one.
  const url = URL.parse(`http://${host}/`);
  const name = host.replace(/:\d*$/, "").toLowerCase();
  const refused = `the Host header ${JSON.stringify(host)} is not a host name or address`;
  if (url === null || url.username !== "" || url.password !== "" || url.pathname !== "/" || url.search || url.hash)
    return refused;
  // Another writing of an address (`[0:0:0:0:0:0:0:1]` for `[::1]`): said how a URL writes it.
  if (url.hostname !== name)
    return /^\[.*\]$|^\d+\.\d+\.\d+\.\d+$/.test(url.hostname)
      ? `the Host header ${JSON.stringify(host)} is not written as a URL writes it: send ${JSON.stringify(url.host)}`
      : refused;
  goodHost = host;
  return null;
}

function requestErrorDetail(e: RequestError): string {
  switch (e.message) {
    case "Invalid host header":
      return "the Host header is not a host name or address";
    default:
      return `the request's target cannot be read (${e.message.toLowerCase()})`;
  }
}

/**
 * How long a client has to send a request's line and headers (Node's default, 60 s, let a client
 * that sends them a byte at a time hold a connection for a minute), and its whole request, body
 * included (Node's default, 300 s, said here so that it is the same whatever Node runs it). A
 * response is not bounded by either: an event stream runs as long as its client reads. (Node
 * looks for overdue requests every 30 s: one is cut up to 30 s after its time.)
 */
export const HEADERS_TIMEOUT_MS = 20_000;
export const REQUEST_TIMEOUT_MS = 300_000;
/** How long a connection is kept open for a next request after a reply (Node's default). */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * Node's HTTP server with `listener`. What its parser refuses gets a problem and the connection
 * closes; so do `CONNECT` (no proxy here) and an `Expect` other than `100-continue`.
 */
export function httpServer(
  listener: Listener,
  /** What sees every request first, refused or in its turn (the access log, main.ts). */
  outer: (inner: Listener) => Listener = (inner) => inner,
): Server {
  // A missing Host on HTTP/1.1 reaches the adapter, which answers it as above (Node's own
  // check would answer with a bare 400); on HTTP/1.0 it is filled in first, for every door.
  const served = outer(inTurn(listener));
  const onRequest: Listener = (req, res) => {
    ownHost(req);
    served(req, res);
  };
  const server = createServer(
    {
      requireHostHeader: false,
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    },
    onRequest,
  );
  // `Expect: 100-continue`: Node would answer `100 Continue` at once, inviting the body of a
  // request about to be refused (no token, a bad Host, a body too large by its length).
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    continueOnRead(req, res);
    onRequest(req, res);
  });
  // A client that half-closes after its requests (it sent them all, and waits for the replies)
  // gets them: Node would otherwise end the connection at the client's FIN, and a request that
  // ran (a PUT, a DELETE) would have no reply. The connection ends after the last reply instead.
  // (Node's own switch, not in its types; test/http/edges.test.ts fails if it stops working.)
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // Every header field is read: past Node's default of 2,000 the rest were dropped without a
  // word, so an `If-None-Match: *` or an `Idempotency-Key` after 2,000 short fields went unseen
  // (a create-only PUT overwrote, a retry applied again). The 16 KiB of line and headers bound
  // them anyway.
  server.maxHeadersCount = 0;
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Duplex) => parseFailure(error, socket));
  server.on("connect", (_req: IncomingMessage, socket: Duplex) =>
    rawProblem(
      socket,
      problemBody("method-not-allowed", "CONNECT is not served: this server is not a proxy"),
      "allow: GET, HEAD, PUT, POST, DELETE, OPTIONS\r\n",
    ),
  );
  // Node hands these to an event of their own, not the listener: `outer` (the access log) sees
  // them too.
  server.on(
    "checkExpectation",
    outer((req: IncomingMessage, res: ServerResponse) => {
      const body = JSON.stringify(
        problemBody(
          "expectation-failed",
          `the server meets no expectation but 100-continue, not ${JSON.stringify(req.headers.expect)}`,
        ),
      );
      // The connection closes after it: what was pipelined behind it does not run.
      endTurns(req.socket);
      res.writeHead(417, {
        [REQUEST_ID_HEADER]: idOf(req, res),
        "content-type": PROBLEM_CONTENT_TYPE,
        "content-length": Buffer.byteLength(body),
        connection: "close",
      });
      res.end(body);
    }),
  );
  return server;
}

/**
 * Answers `Expect: 100-continue` when the request's body is first read, which a door does only
 * once it has let the request through (its Host, token, scope and body length checked): a
 * request refused before then gets its reply and no 100, and (Node's rule for a reply sent
 * without a 100) the connection closes after it, as its client may or may not send the body it
 * was not invited to send. Whatever reads a body (a door, or discardBody once a reply is out)
 * makes the stream call `_read`. A request that says it has no body is answered 100 at once,
 * as Node would: it invites nothing, and the connection is kept. But not one pipelined behind
 * a reply still on its way: Node holds the 100 until that reply is out, and then writes the
 * request's own reply's head before it when the reply's body is bytes (OutgoingMessage `_send`
 * puts a head in front of what waits), so the 100 landed inside the reply, between its head
 * and its body, and the client read the rest of the connection out of step. Such a request is
 * answered without the 100 (RFC 9110 10.1.1 lets a server omit it when the framing says there
 * is no content), its connection still kept: Node's rule closes a connection whose client was
 * not sent the 100 it asked for, lest its body follow, and this one has none. Nor does one whose
 * body came whole without the 100 and was read to its end before the reply (see below).
 */
function continueOnRead(req: IncomingMessage, res: ServerResponse): void {
  const hasBody = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
  if (!hasBody) {
    if ((req.socket as HttpSocket)._httpMessage === res) res.writeContinue();
    else owesNoContinue(res);
    return;
  }
  uninvited.add(req);
  const read = req._read;
  req._read = function (size: number) {
    req._read = read;
    uninvited.delete(req);
    if (!res.headersSent) res.writeContinue();
    return read.call(this, size);
  };
  // A client may send its body without waiting for the 100: one pipelined behind a request still
  // running had come whole by its turn, and a stream whose end has come does not call `_read`, so
  // it was read without the 100, and Node's rule closed the connection after its reply, the
  // requests pipelined behind it never answered. Read to its end before the reply, the body can
  // be followed by nothing but the next request: no 100 is owed, and the connection is kept.
  req.once("end", () => {
    if (res.headersSent) return;
    uninvited.delete(req);
    owesNoContinue(res);
  });
  // Nor one whose body came whole and was never read (a request refused before its body is asked
  // for, a 415 say, or a DELETE, which reads none): complete when the reply's head is written, it
  // too can be followed by nothing but the next request. (Node's implicit head calls writeHead.)
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: Parameters<typeof writeHead>) {
    if (req.complete) owesNoContinue(res);
    return writeHead.apply(this, args);
  } as typeof writeHead;
}

/** Node's rule (a 100 asked for and not sent closes the connection after the reply) lifted for `res`. */
function owesNoContinue(res: ServerResponse): void {
  (res as ServerResponse & { _expect_continue: boolean })._expect_continue = false;
}

/** Requests with `Expect: 100-continue` and a body, not (yet) answered 100. */
const uninvited = new WeakSet<IncomingMessage>();

/**
 * HTTP/1.0 does not require a Host header (RFC 1945), and what still speaks it often sends none:
 * HAProxy's `option httpchk GET /readyz`, for one. Such a request is for this server, so it is
 * served as if it had named the address and port it reached (the connection's own end), in
 * `Host` as every door and the app read it. Without tokens the server listens on loopback only,
 * so that address is a loopback one and the loopback-only rule (loopback.ts) holds as for any
 * request. HTTP/1.1 without Host is still a 400 (RFC 9112 3.2), in honoListener.
 */
function ownHost(req: IncomingMessage): void {
  if (req.headers.host !== undefined || req.httpVersion !== "1.0") return;
  const { localAddress, localPort } = req.socket;
  if (localAddress === undefined || localPort === undefined) return;
  // An IPv4 client of a dual-stack socket reached `::ffff:127.0.0.1`: its address is 127.0.0.1.
  const address = localAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "");
  // As a URL writes it (IPv6 in brackets, shortest form), which hostProblem asks for.
  const host = URL.parse(`http://${address.includes(":") ? `[${address}]` : address}:${localPort}/`)?.host;
  if (host === undefined) return;
  req.headers.host = host;
  req.rawHeaders.push("Host", host);
}

/** Methods that change nothing (RFC 9110 9.2.1): pipelined behind each other, they may run at once. */
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The most requests of one connection that run at once; once that many are taken in and not yet
 * answered (running, or waiting their turn), the connection is not read until one of them is
 * done (the parser stops between reads: what the last read brought, up to 64 KiB, is still
 * parsed and waits). Each costs memory, the reply of one that ran is held until those before it
 * have gone out, and behind an event stream, which never ends, none ever goes out. (Node stops
 * reading only while replies wait to be written: neither requests that wait their turn nor
 * replies held behind a stream count.)
 */
export const MAX_PIPELINED = 16;

/** One connection's requests: those running (replies not yet done) and those waiting their turn. */
interface Turns {
  socket: Duplex;
  /** A reply that closes the connection is on its way: nothing that comes behind it runs. */
  closing: boolean;
  running: number;
  /** Of them, requests that may change something. */
  unsafe: number;
  waiting: { safe: boolean; go: () => void }[];
  /** The connection is not read: MAX_PIPELINED requests are in. */
  held: boolean;
}
const turns = new WeakMap<Duplex, Turns>();

function turnsOf(socket: Duplex): Turns {
  let t = turns.get(socket);
  if (!t) turns.set(socket, (t = { socket, closing: false, running: 0, unsafe: 0, waiting: [], held: false }));
  return t;
}

/**
 * A reply that closes the connection is on its way: the requests that come behind it are
 * dropped (those before it, still waiting their turn, run, and their replies go out first).
 */
function endTurns(socket: Duplex): void {
  turnsOf(socket).closing = true;
}

/** The request id of `res`, set by the access log if it saw the request, else made now. */
const idOf = (req: IncomingMessage, res: ServerResponse) =>
  String(res.getHeader(REQUEST_ID_HEADER) ?? requestId(req.headers[REQUEST_ID_HEADER]));

/**
 * Runs the requests of one connection in their order where it matters (RFC 9112 9.3.2). Node
 * hands the listener each pipelined request as soon as it is parsed and orders only the replies:
 * a DELETE pipelined behind the PUT that creates its object ran beside it and found nothing. So
 * a request that may change something waits until every reply before it on its connection is
 * done, and what comes behind it waits for its own; safe requests behind safe ones still run at
 * once. Before it runs, a request is refused if its body cannot be read (a Transfer-Encoding that
 * does not end in `chunked`, or has another coding before it), and a DELETE, which reads no body, waits for the end of one it was
 * sent with (unless its client waits to be invited to send it: continueOnRead): a broken body
 * then closes the connection before anything was deleted.
 */
function inTurn(listener: Listener): Listener {
  return (req, res) => {
    const t = turnsOf(req.socket);
    if (t.closing) return;
    const encoding = req.headers["transfer-encoding"];
    if (encoding !== undefined && !/(?:^|,)[ \t]*chunked[ \t]*$/i.test(encoding)) {
      // The body's end cannot be found, so neither can the next request's start: the parser's
      // error that follows is this one (not reported again), and the connection closes.
      failed.add(req.socket);
      endTurns(req.socket);
      return void refuse(
        req,
        res,
        "malformed-request",
        `a request body's Transfer-Encoding must end in "chunked", not ${JSON.stringify(encoding)}`,
        { [REQUEST_ID_HEADER]: idOf(req, res), connection: "close" },
      );
    }
    // Codings before `chunked` (`gzip, chunked`) are not undone here: the body would be read as
    // it came, a gzip body refused as "not valid UTF-8" and a plain one declared gzip applied.
    // Its end is known (chunked is last), so the connection is kept.
    if (encoding !== undefined && !/^[ \t]*chunked[ \t]*$/i.test(encoding))
      return void refuse(
        req,
        res,
        "malformed-request",
        `a request body may be sent with no transfer coding but chunked (nothing else is undone here), not ${JSON.stringify(encoding)}`,
        { [REQUEST_ID_HEADER]: idOf(req, res) },
      );
    const safe = SAFE.has(req.method ?? "");
    const go = () => {
      t.running++;
      if (!safe) t.unsafe++;
      res.once("close", () => {
        t.running--;
        if (!safe) t.unsafe--;
        nextTurn(t);
      });
      // One whose client waits for a 100 before sending the body: it is not invited (its reply,
      // sent without the 100, closes the connection, so no body can follow it into a next request).
      if (req.method === "DELETE" && !req.complete && !uninvited.has(req))
        afterBody(req, res, () => listener(req, res));
      // One whose body may have come in the same bytes as its head: the parser reads that body
      // only once this request has been handed over, and a reply made at once (a 415, a 404) had
      // its head written before, the request not yet complete, so its connection closed though
      // the body had all arrived. It runs once those bytes are read (continueOnRead's writeHead).
      else if (uninvited.has(req) && !req.complete) setImmediate(() => listener(req, res));
      else listener(req, res);
    };
    t.waiting.push({ safe, go });
    nextTurn(t);
  };
}

/**
 * Starts the waiting requests whose turn it is, in order. Those of a connection that is closing
 * or closed (a reply said `connection: close`, the client went away) are dropped: no reply of
 * theirs could be sent, and nothing was acknowledged.
 */
function nextTurn(t: Turns): void {
  if (t.socket.destroyed || !t.socket.writable) t.waiting.length = 0;
  for (
    let w = t.waiting[0];
    w && (t.running === 0 || (w.safe && t.unsafe === 0 && t.running < MAX_PIPELINED));
    w = t.waiting[0]
  ) {
    t.waiting.shift();
    w.go();
  }
  // Again at each request: Node may have resumed reading meanwhile (once its replies drained).
  if (t.running + t.waiting.length >= MAX_PIPELINED) {
    t.held = true;
    stopReading(t.socket);
  } else if (t.held) {
    t.held = false;
    startReading(t.socket);
  }
}

/**
 * A connection as Node's server stops and starts reading it for its own backpressure
 * (_http_server.js): `socket.pause()` alone does not stop its parser, which reads the socket
 * itself; with `_paused` set, the parser pauses once it has parsed what it holds.
 */
type ServerSocket = Duplex & { _paused?: boolean; parser?: { resume(): void } | null };

function stopReading(socket: ServerSocket): void {
  socket._paused = true;
  socket.pause();
}

function startReading(socket: ServerSocket): void {
  socket._paused = false;
  socket.parser?.resume();
  socket.resume();
}

/**
 * Runs `then` once the request's body has all arrived (a DELETE reads none: it is thrown away);
 * one past the bound of any body read only to be thrown away (DISCARD_LIMIT) is refused.
 */
function afterBody(req: IncomingMessage, res: ServerResponse, then: () => void): void {
  let seen = 0;
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen <= DISCARD_LIMIT) return;
    req.off("data", onData).off("end", then);
    req.pause();
    refuse(
      req,
      res,
      "too-large",
      `a ${req.method} request's body is read only to be thrown away, up to ${DISCARD_LIMIT} bytes: send none (this one is larger)`,
      { [REQUEST_ID_HEADER]: idOf(req, res) },
    );
  };
  req.on("data", onData).once("end", then);
}

/**
 * Node's parser codes with a status of their own; every other code is a malformed request. Its
 * header limit (16 KiB) counts the request line too, so a URL past it is refused here as well,
 * before any route sees it. It is a 431 all the same, not a 414: the parser does not say which
 * part overflowed, and the bytes it shows are only the last read's (a long URL that came in
 * several reads shows no request line), so a 414 would depend on how the bytes were cut.
 */
const PARSE_STATUS: Record<string, { slug: ProblemSlug; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    slug: "headers-too-large",
    detail: `the request's line and headers are larger than the server reads: ${maxHeaderSize / 1024} KiB together, the URL included`,
  },
};

/** The response a connection is sending, if any (Node's own clientError handler reads it too). */
type HttpSocket = Duplex & { _httpMessage?: ServerResponse | null };

/** Connections whose parse failure was handled: Node reports one again for every later chunk. */
const failed = new WeakSet<Duplex>();

function parseFailure(error: NodeJS.ErrnoException, socket: Duplex): void {
  // A client that went away, or a connection timed out (also one left waiting below): there is
  // no one to answer.
  if (error.code === "ECONNRESET" || error.code === "ERR_HTTP_REQUEST_TIMEOUT" || !socket.writable) {
    socket.destroy();
    return;
  }
  if (failed.has(socket)) return;
  failed.add(socket);
  const inFlight = (socket as HttpSocket)._httpMessage;
  if (inFlight) {
    // The bad bytes came behind a request whose response is on its way: that response answers
    // its request (an applied PUT must not be answered 400), and the connection closes after it;
    // the bytes get no answer of their own. A response already sending (an event stream) cannot
    // have another written into it: the connection closes now, as Node's own handler does. And
    // bad bytes inside the request's own body leave it with no true answer (a route that reads
    // the body fails, one that does not, a DELETE, may have acted): the connection closes, as
    // for any request whose connection breaks.
    if (inFlight.req.complete && !inFlight.headersSent) closeAfterReplies(socket as HttpSocket);
    else socket.destroy();
    return;
  }
  const known = PARSE_STATUS[error.code ?? ""];
  rawProblem(
    socket,
    known
      ? problemBody(known.slug, known.detail)
      : problemBody("malformed-request", "the request is not well-formed HTTP/1.1"),
  );
}

/**
 * Closes the connection once the replies on their way have gone out: the one being written and
 * those of pipelined requests behind it (Node makes each the connection's response in turn).
 * They still say `keep-alive`: telling Node otherwise would make it close the connection after
 * the first of them, before the others are written.
 */
function closeAfterReplies(socket: HttpSocket): void {
  const response = socket._httpMessage;
  // None left; or one that would keep the connection for good: its request's body never ends
  // (the bad bytes were in it), or it is an event stream.
  if (!response || !response.req.complete || isStream(response)) {
    socket.destroy();
    return;
  }
  response.once("close", () => setImmediate(() => closeAfterReplies(socket)));
}

/** A reply that does not end by itself: `GET /v1/events`. */
function isStream(response: ServerResponse): boolean {
  return (
    response.req.url?.split("?")[0] === "/v1/events" ||
    String(response.getHeader("content-type") ?? "").startsWith("text/event-stream")
  );
}

/**
 * Writes a problem straight to the socket and closes it once written, whatever the client does.
 * It has a request id too, a new one (no header of the bytes refused is read).
 */
function rawProblem(socket: Duplex, body: ReturnType<typeof problemBody>, headers = ""): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${body.status} ${body.title}\r\n${REQUEST_ID_HEADER}: ${requestId(undefined)}\r\n` +
      `content-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(text)}\r\n` +
      `${headers}connection: close\r\n\r\n${text}`,
    () => socket.destroy(),
  );
}
