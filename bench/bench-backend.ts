/**
 * Benchmark backend: a TLS server for one name. The client's first byte picks the mode:
 * `S` sink (discard, acknowledge with one byte every 16 MiB so the sender can time end to end),
 * `E` echo. Prints `{"port":N}` when listening. Usage: bench-backend HOST KEY_FILE CERT_FILE
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";

/** Bytes per sink acknowledgement. */
export const ACK_EVERY = 16 * 1024 * 1024;

const [host, keyFile, certFile] = process.argv.slice(2);
if (!/^127\./.test(host ?? "")) throw new Error("bench-backend: loopback addresses only");
const server = tls.createServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (socket) => {
  socket.setNoDelay(true);
  socket.on("error", () => undefined);
  let mode = "";
  let sunk = 0;
  socket.on("data", (chunk: Buffer) => {
    let data = chunk;
    if (mode === "") {
      mode = String.fromCharCode(data[0]);
      data = data.subarray(1);
    }
    if (mode === "E") {
      if (data.length > 0) socket.write(data);
      return;
    }
    sunk += data.length;
    while (sunk >= ACK_EVERY) {
      sunk -= ACK_EVERY;
      socket.write("A");
    }
  });
  socket.on("end", () => socket.end());
});
server.listen({ host, port: 0, backlog: 4096 }, () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as net.AddressInfo).port })}\n`);
});
process.on("SIGTERM", () => process.exit(0));
