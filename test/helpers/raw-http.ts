// One request over a socket of its own, exactly as given: the Host header as the test says
// (127.0.0.1:<port> by default; Node adds none of its own), a string body with its
// Content-Length, or an array of chunks sent without one. Resolves with status, headers and text.

import http, { type IncomingHttpHeaders } from "node:http";
import net from "node:net";

export interface RawRequest {
  method: string;
  path: string;
  /** A header given as a list is sent once per value. */
  headers?: Record<string, string | string[]>;
  body?: string | string[] | Buffer;
  /** The Host header; default 127.0.0.1:<port>. */
  host?: string;
}

export interface RawReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export function rawRequest(port: number, r: RawRequest): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = { host: r.host ?? `127.0.0.1:${port}`, ...r.headers };
    if (typeof r.body === "string" || Buffer.isBuffer(r.body))
      headers["content-length"] = String(Buffer.byteLength(r.body));
    const req = http.request(
      { host: "127.0.0.1", port, method: r.method, path: r.path, headers, setHost: false, agent: false },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      },
    );
    req.on("error", reject);
    if (Array.isArray(r.body)) for (const chunk of r.body) req.write(chunk);
    else if (r.body !== undefined) req.write(r.body);
    req.end();
  });
}

/** Writes `bytes` to a socket of its own as they are and resolves with all it reads until the server closes it. */
export function rawBytes(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(bytes));
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (text += d));
    socket.on("error", reject);
    socket.on("close", () => resolve(text));
  });
}

/**
 * Sends `head` and then a chunked body, 64 KiB a chunk as fast as the socket takes it, until the
 * server ends or closes the connection or `cap` bytes have gone; resolves with the reply, the
 * bytes sent and whether the server ended the connection.
 */
export function streamedBody(
  port: number,
  head: string,
  cap: number,
): Promise<{ reply: string; sent: number; closed: boolean }> {
  return new Promise((resolve) => {
    const sock = net.connect(port, "127.0.0.1");
    const chunk = Buffer.concat([Buffer.from("10000\r\n"), Buffer.alloc(0x10000, 0x20), Buffer.from("\r\n")]);
    let sent = 0;
    let reply = "";
    let closed = false;
    let resolved = false;
    const done = () => {
      if (resolved) return;
      resolved = true;
      sock.destroy();
      resolve({ reply, sent, closed });
    };
    const pump = () => {
      while (!closed && sent < cap) {
        sent += 0x10000;
        if (!sock.write(chunk)) return void sock.once("drain", pump);
      }
      if (!closed) done();
    };
    sock.on("connect", () => {
      sock.write(head);
      pump();
    });
    sock.on("data", (d: Buffer) => (reply += d.toString()));
    sock.on("error", () => {});
    // The server ends its side (FIN) and reads no more, or closes.
    for (const event of ["end", "close"])
      sock.on(event, () => {
        closed = true;
        done();
      });
  });
}

/**
 * As {@link streamedBody}, but the client goes on sending after the server ends its side (as a
 * client that does not read would), for `ms`; resolves with the reply and the bytes the server's
 * kernel took (sent, less what still waits in this socket's buffer).
 */
export function stubbornBody(port: number, head: string, ms: number): Promise<{ reply: string; taken: number }> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    const chunk = Buffer.concat([Buffer.from("10000\r\n"), Buffer.alloc(0x10000, 0x20), Buffer.from("\r\n")]);
    let reply = "";
    let stop = false;
    const pump = () => {
      while (!stop) if (!sock.write(chunk)) return void sock.once("drain", pump);
    };
    sock.on("connect", () => {
      sock.write(head);
      pump();
    });
    sock.on("data", (d: Buffer) => (reply += d.toString()));
    sock.on("error", () => {});
    setTimeout(() => {
      stop = true;
      const taken = sock.bytesWritten - sock.writableLength;
      sock.destroy();
      resolve({ reply, taken });
    }, ms);
  });
}
