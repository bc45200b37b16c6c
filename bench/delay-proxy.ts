/**
 * A TCP proxy on loopback that stands for a slow or silent Consul agent (`scale-limits.ts`):
 * every chunk is passed on `delayMs` later, in order, both ways; paused, it passes nothing on
 * and keeps every connection open, as an agent that stopped answering would.
 */
import net from "node:net";

/** A running {@link delayProxy}. */
export interface DelayProxy {
  /** Where it listens (`host:port`). */
  address: string;
  /** Holds every byte from now on (connections stay open), until {@link DelayProxy.resume}. */
  pause(): void;
  /** Passes bytes on again, what was held first. */
  resume(): void;
  /** Closes the listener and every connection. */
  close(): void;
}

/**
 * Starts a proxy to `target`.
 * @param host - The loopback address to listen on.
 * @param target - Where to connect each client (`host`, `port`).
 * @param delayMs - The delay added to every chunk, each way.
 * @returns the proxy.
 */
export async function delayProxy(
  host: string,
  target: { host: string; port: number },
  delayMs: number,
): Promise<DelayProxy> {
  const sockets = new Set<net.Socket>();
  const held: Array<() => void> = [];
  let paused = false;
  const pass = (from: net.Socket, to: net.Socket) => {
    from.on("data", (chunk: Buffer) => {
      const send = () => setTimeout(() => to.destroyed || to.write(chunk), delayMs);
      if (paused) held.push(send);
      else send();
    });
    from.on("end", () => setTimeout(() => to.end(), delayMs));
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => undefined);
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    pass(client, upstream);
    pass(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    address: `${host}:${(server.address() as net.AddressInfo).port}`,
    pause: () => (paused = true),
    resume: () => {
      paused = false;
      for (const send of held.splice(0)) send();
    },
    close: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}
