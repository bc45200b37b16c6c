/**
 * A demo service: a TLS server that echoes what it receives, standing in for a connect
 * sidecar. Its certificate is valid only for its own Consul SNI name, so a client that
 * verifies it proves the bytes reached the right service without being decrypted on the way.
 */
import tls from "node:tls";
import type { AddressInfo } from "node:net";

/** Options of {@link startEchoServer}. */
export interface EchoServerOptions {
  /** Address to listen on. */
  host: string;
  /** Port to listen on; `0` picks a free one. */
  port: number;
  /** PEM private key. */
  key: string;
  /** PEM certificate. */
  cert: string;
  /** Prefix of every answer, so a client can tell which service answered. Default: none. */
  banner?: string;
}

/** Starts an echo server; resolves once it listens. */
export async function startEchoServer(
  options: EchoServerOptions,
): Promise<{ address: AddressInfo; close(): Promise<void> }> {
  const server = tls.createServer({ key: options.key, cert: options.cert }, (socket) => {
    socket.on("error", () => socket.destroy());
    socket.on("data", (data) =>
      socket.write(options.banner ? Buffer.concat([Buffer.from(options.banner), data]) : data),
    );
    socket.on("end", () => socket.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    address: server.address() as AddressInfo,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
