/**
 * Captures the fuzzer's seeds: the ClientHellos real clients send, as they sent them (records
 * and all), into `soak/corpus/seeds/`. Run by hand when a client changes (the seeds are kept in
 * the repository, so the soak never needs these clients):
 *
 *   node -r ./soak/ts-register.js soak/corpus/capture.ts
 *
 * Needs `openssl` and, for the post-quantum hello, Go ≥ 1.24 (`go` on PATH).
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import tls from "node:tls";
import { captureHello, opensslClient } from "../../test/gateway/helpers";
import { FUZZ_TRUST_DOMAIN } from "../fuzz/fuzz-table";
import { CORPUS_DIR } from "../paths";

const SEEDS = path.join(CORPUS_DIR, "seeds");
const NAME = `api.default.dc2.internal.${FUZZ_TRUST_DOMAIN}`;
const quiet = (socket: tls.TLSSocket) => socket.on("error", () => undefined);
const alpn = (count: number, prefix: string) => Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);

/** Each seed: its file name and the client that sends it to a port. */
const CLIENTS: Array<[string, (port: number) => { destroy(): void } | void]> = [
  ["node-tls13.bin", (port) => quiet(tls.connect({ port, host: "127.0.0.1", servername: NAME }))],
  ["node-tls12.bin", (port) => quiet(tls.connect({ port, host: "127.0.0.1", servername: NAME, maxVersion: "TLSv1.2" }))],
  ["node-2k-alpn.bin", (port) => quiet(tls.connect({ port, host: "127.0.0.1", servername: NAME, ALPNProtocols: alpn(90, "mesh-protocol") }))],
  ["node-no-sni.bin", (port) => quiet(tls.connect({ port, host: "127.0.0.1" }))],
  ["openssl.bin", (port) => opensslClient(port, ["-servername", NAME])],
  ["openssl-512-byte-records.bin", (port) => opensslClient(port, ["-servername", NAME, "-alpn", alpn(60, "protocol").join(","), "-max_send_frag", "512"])],
  [
    "go-x25519mlkem768.bin",
    (port) => {
      const child = execFile("go", ["run", path.join(CORPUS_DIR, "go-client/main.go"), `127.0.0.1:${port}`, NAME]);
      return { destroy: () => child.kill() };
    },
  ],
];

async function main(): Promise<void> {
  for (const [file, client] of CLIENTS) {
    const bytes = await captureHello(client);
    writeFileSync(path.join(SEEDS, file), bytes);
    process.stdout.write(`${file}: ${bytes.length} bytes\n`);
  }
}

void main();
