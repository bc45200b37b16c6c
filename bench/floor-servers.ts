/**
 * The plain programs of the benchmark's per-connection floor test (a ClientHello in, one byte
 * back, close; no TLS on either end), each printing `{"port":N}` once listening:
 *
 *   backend     HOST               answers the first bytes of a connection with one byte, then ends it
 *   accept      HOST               the same, itself: Node.js's cost of accepting, reading and closing a socket
 *   two-sockets HOST BACKEND_PORT  reads the first bytes, connects to the backend, writes them, sends its
 *                                  answer back, closes both: Node.js's cost of the two sockets a proxy holds
 *
 * The last two are no proxies (no routing, no timeouts, no streaming): they measure what Node.js's
 * `net` costs before any gateway logic.
 */
import net from "node:net";

const [mode, host, backendPort] = process.argv.slice(2);
if (!/^127\./.test(host ?? "")) throw new Error("floor-servers: loopback addresses only");

function answerOnce(socket: net.Socket): void {
  socket.on("error", () => undefined);
  socket.once("data", () => socket.end("x"));
}

function twoSockets(client: net.Socket): void {
  client.on("error", () => undefined);
  client.once("data", (hello: Buffer) => {
    const upstream = net.connect({ host: "127.0.0.1", port: Number(backendPort), noDelay: true }, () =>
      upstream.write(hello),
    );
    upstream.on("error", () => client.destroy());
    upstream.once("data", (answer: Buffer) => {
      client.end(answer);
      upstream.destroy();
    });
  });
}

if (mode !== "backend" && mode !== "accept" && mode !== "two-sockets") throw new Error(`unknown mode ${mode}`);
const server = net.createServer({ noDelay: true }, mode === "two-sockets" ? twoSockets : answerOnce);
server.listen({ host, port: 0, backlog: 4096 }, () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as net.AddressInfo).port })}\n`);
});
process.on("SIGTERM", () => process.exit(0));
