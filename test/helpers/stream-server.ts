// Event streams over real sockets, as main.ts serves them: a server on port 0 that keeps its
// replies (to see a stream's connection cut), clients of GET /v1/events that stop reading once
// connected, and the head of one more request (a slot free, or a 503).

import type { IncomingMessage, Server, ServerResponse } from "node:http";
import net, { type AddressInfo } from "node:net";
import { createApp } from "../../src/http/app.ts";
import type { Metrics } from "../../src/http/metrics.ts";
import { honoListener, httpServer } from "../../src/http/node-server.ts";
import type { TestServices } from "./services.ts";

/** The app of `services`, served without tokens; its replies in the order their requests came. */
export async function streamServer(
  services: TestServices,
  options: { maxStreams?: number; metrics?: Metrics } = {},
): Promise<{ port: number; responses: ServerResponse[]; close: () => Promise<void> }> {
  const { governor, policies, whatIf } = services;
  const app = createApp({ governor, policies, whatIf, tokens: [], ...options });
  const hono = honoListener(app, () => {}, true);
  const responses: ServerResponse[] = [];
  const server: Server = httpServer((req: IncomingMessage, res: ServerResponse) => {
    responses.push(res);
    void hono(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { port: (server.address() as AddressInfo).port, responses, close };
}

/**
 * A client of GET /v1/events?types=decision (with `lastEventId`, from after it) that reads until
 * `: connected`, then on (`reading`) or nothing more.
 */
export async function streamClient(
  port: number,
  { reading = false, lastEventId }: { reading?: boolean; lastEventId?: string } = {},
): Promise<net.Socket> {
  const client = net.connect(port, "127.0.0.1");
  const resume = lastEventId === undefined ? "" : `last-event-id: ${lastEventId}\r\n`;
  await new Promise<void>((resolve) => {
    client.on("connect", () =>
      client.write(`GET /v1/events?types=decision HTTP/1.1\r\nhost: 127.0.0.1\r\n${resume}\r\n`),
    );
    let head = "";
    const onData = (b: Buffer) => {
      head += b.toString();
      if (!head.includes(": connected")) return;
      client.off("data", onData);
      if (reading) client.resume();
      else client.pause();
      resolve();
    };
    client.on("data", onData);
  });
  return client;
}

/** The status line and head of a GET /v1/events, lower-cased, read as they come (a stream's body never ends). */
export function streamHead(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, "127.0.0.1", () => c.write("GET /v1/events HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n"));
    let text = "";
    c.setEncoding("utf8");
    c.on("data", (d: string) => {
      text += d;
      if (!text.includes("\r\n\r\n")) return;
      c.destroy();
      resolve(text.slice(0, text.indexOf("\r\n\r\n")).toLowerCase());
    });
    c.on("error", reject);
  });
}
