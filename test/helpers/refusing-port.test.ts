// refusingPort: a connection to its port is refused, and no server can take the port meanwhile.

import net from "node:net";
import { expect, test } from "vitest";
import { ephemeralFloor, listenOutsideEphemeral, refusingPort } from "./refusing-port.ts";

test("a connection to a refusing port is refused, and no server can listen on it meanwhile", async () => {
  const port = await refusingPort();
  const refused = await fetch(`http://127.0.0.1:${port}/`).catch((e: Error) => e);
  expect((refused as Error & { cause?: { code?: string } }).cause?.code).toBe("ECONNREFUSED");
  for (const host of ["127.0.0.1", "0.0.0.0"]) {
    const server = net.createServer();
    const listening = await new Promise<string>((resolve) => {
      server.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? String(e)));
      server.listen(port, host, () => resolve("listening"));
    });
    server.close();
    expect(listening, host).toBe("EADDRINUSE");
  }
});

test("a server that must go away for good listens below the ports given on request", async () => {
  const server = net.createServer();
  const url = await listenOutsideEphemeral(server);
  const port = (server.address() as net.AddressInfo).port;
  expect(url).toBe(`http://127.0.0.1:${port}`);
  expect(port).toBeGreaterThan(1024);
  expect(port).toBeLessThan(ephemeralFloor());
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const refused = await fetch(url).catch((e: Error) => e);
  expect((refused as Error & { cause?: { code?: string } }).cause?.code).toBe("ECONNREFUSED");
});
