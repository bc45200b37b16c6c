/**
 * Backends for the soak, in a process of their own: TCP servers on loopback addresses that echo
 * every byte and answer a half-close with one, counting what they accept and receive, by
 * endpoint. Requests: `listen {address}` → `{address, port}`; `stats` → {@link BackendStats}.
 *
 * Forked by the soak, IPC only.
 */
import net from "node:net";
import { serveRequests } from "../child";
import { SoakError } from "../soak-error";

/** What the backends have seen. */
export interface BackendStats {
  /** Connections accepted, by `address:port`. */
  accepted: Record<string, number>;
  /** Connections open now. */
  open: number;
  /** Bytes received, over all endpoints. */
  bytes: number;
}

const stats: BackendStats = { accepted: {}, open: 0, bytes: 0 };

function listen(address: string): Promise<{ address: string; port: number }> {
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    const key = `${address}:${port}`;
    stats.accepted[key] = (stats.accepted[key] ?? 0) + 1;
    stats.open++;
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      stats.bytes += chunk.length;
      socket.write(chunk);
    });
    socket.on("end", () => socket.end());
    socket.on("close", () => stats.open--);
  });
  let port = 0;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: address, port: 0, backlog: 4096 }, () => {
      port = (server.address() as net.AddressInfo).port;
      resolve({ address, port });
    });
  });
}

serveRequests(async (request) => {
  if (request.type === "listen") return listen(String(request.address));
  if (request.type === "stats") return stats;
  throw new SoakError("E_SOAK_HELPER", "backends", `unknown request ${request.type}`);
});
