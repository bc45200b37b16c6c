/**
 * Real Consul for tests: one server agent per datacenter, as processes on loopback, each on an
 * address of its own (`127.X.<n>.1`) with free ports, WAN-joined, Connect and gRPC on, central
 * service config on, optionally with ACLs. Each server reads two configuration files: the one
 * `mesh/`'s `renderAgentConfig` produces (so the renderer meets the real agent) and a loopback
 * overlay (addresses, ports, data directory) that a real deployment would not need.
 *
 * Every process is stopped by its PID in {@link RealConsul.stop}, and killed when the test
 * process exits.
 */
import { randomInt, randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import {
  createCertificateAuthority,
  createGossipKey,
  issueServerCertificate,
  type CertificateAuthorityPem,
} from "../../components/dynamic/consul-secrets";
import { renderAgentConfig, type Mesh } from "../../mesh";
import { eventually, freePorts, GiveUp, TestProcess, toolPath } from "./processes";

/** The answer of one HTTP API call. */
export interface ApiAnswer {
  status: number;
  text: string;
  /** The parsed body, when it is JSON. */
  json: unknown;
  /** `X-Consul-Index`, when sent. */
  index: number | undefined;
  /** `X-Consul-Results-Filtered-By-ACLs`, when sent. */
  filtered: string | null;
}

/** One datacenter's server. */
export interface RealDatacenter {
  /** Datacenter name. */
  name: string;
  /** The loopback address every listener of this server binds. */
  host: string;
  /** Its ports. */
  ports: { http: number; grpc: number; serfLan: number; serfWan: number; server: number };
  /** `http://host:port` of the HTTP API. */
  httpAddress: string;
  /** `host:port` of the gRPC (xDS) listener: TLS with `secure`, else plaintext. */
  grpcAddress: string;
  /** With `secure`: the CA file that verifies its HTTPS and gRPC listeners. */
  caFile?: string;
  /** The server process. */
  process: TestProcess;
  /** The agent configuration rendered by `renderAgentConfig`, as written. */
  renderedConfig: Record<string, unknown>;
  /**
   * Calls the HTTP API with the management token (when ACLs are on), or `token` when given.
   * @param method - HTTP method.
   * @param apiPath - Path and query, e.g. `/v1/catalog/services`.
   * @param body - JSON body. Default: none.
   * @param token - Token. Default: the management token; `""` sends none.
   */
  api(method: string, apiPath: string, body?: unknown, token?: string): Promise<ApiAnswer>;
}

/** Options of {@link RealConsul.start}. */
export interface RealConsulOptions {
  /** Datacenter names; the first is the primary. Default: `["dc1", "dc2"]`. */
  datacenters?: string[];
  /** ACLs on with `default_policy = deny` and an initial management token. Default: `false`. */
  acl?: boolean;
  /**
   * The secure defaults: TLS on the API, gRPC and server RPC with a CA made for this run
   * (`consul-secrets.ts`), and gossip encryption. Default: `false` (both turned off).
   */
  secure?: boolean;
  /**
   * WAN federation through mesh gateways (needs `secure`): each datacenter's server starts alone
   * and, once it has a leader, this starts its gateways (registered with `consul-wan-federation`
   * meta) and gives their WAN addresses (`host:port`); the next datacenters' servers are told the
   * primary's in `primary_gateways`. Default: WAN gossip joins between the servers.
   */
  throughGateways?: (dc: RealDatacenter, consul: RealConsul) => Promise<string[]>;
}

/** A datacenter's name, address and ports, before its server starts. */
interface PlannedDatacenter {
  name: string;
  host: string;
  ports: RealDatacenter["ports"];
}

/** Real Consul servers, one per datacenter. */
export class RealConsul {
  /** The datacenters, in the order given (the first is the primary). */
  readonly datacenters: RealDatacenter[] = [];
  /** The initial management token (ACLs on), else `undefined`. */
  readonly managementToken: string | undefined;
  /** The mesh whose agent configuration the servers run. */
  readonly mesh: Mesh;
  /** With `secure`: the CA that signed every server's certificate, and the gossip key. */
  secrets?: { ca: CertificateAuthorityPem; gossipKey: string };

  /** The second octet of every datacenter's loopback address, drawn per run. */
  private readonly octet = randomInt(20, 240);
  /** Through the gateways: the primary's gateways' WAN addresses, once started. */
  private primaryGateways: string[] = [];

  private constructor(
    /** Folder of data directories, configuration files and logs. */
    readonly workDir: string,
    mesh: Mesh,
    managementToken: string | undefined,
    private readonly options: RealConsulOptions,
  ) {
    this.mesh = mesh;
    this.managementToken = managementToken;
  }

  /**
   * Starts the servers and waits until every datacenter has a leader, sees the others over the
   * WAN, accepts the management token (ACLs on) and has an active Connect CA.
   */
  static async start(options: RealConsulOptions = {}): Promise<RealConsul> {
    toolPath("consul");
    const names = options.datacenters ?? ["dc1", "dc2"];
    const workDir = await fs.mkdtemp(path.join(os.tmpdir(), "real-consul-"));
    const secure = options.secure === true;
    if (options.throughGateways && !secure) throw new Error("WAN federation through mesh gateways needs `secure`");
    const mesh: Mesh = {
      primaryDatacenter: names[0],
      datacenters: [],
      ...(options.throughGateways ? { wanFederation: { mode: "mesh-gateways" as const } } : {}),
    };
    const token = options.acl ? randomUUID() : undefined;
    const real = new RealConsul(workDir, mesh, token, options);
    if (secure) real.secrets = { ca: await createCertificateAuthority(), gossipKey: await createGossipKey() };
    try {
      // Through the gateways, each datacenter's gateways must run before the next one's server starts.
      const planned = await Promise.all(names.map((name, i) => real.plan(name, i)));
      for (const dc of planned) await real.startDatacenter(dc, planned);
      await real.waitReady();
      return real;
    } catch (error) {
      await real.stop();
      throw error;
    }
  }

  /**
   * Adds a datacenter to a running federation (through the gateways: its gateways are started by
   * the `throughGateways` hook), and waits until every datacenter sees it.
   */
  async addDatacenter(name: string): Promise<RealDatacenter> {
    const planned = await this.plan(name, this.datacenters.length);
    const dc = await this.startDatacenter(planned, [planned]);
    await this.waitReady();
    return dc;
  }

  /** Where datacenter number `i` listens: an address of its own, free ports. */
  private async plan(name: string, i: number): Promise<PlannedDatacenter> {
    const host = `127.${this.octet}.${i + 1}.1`;
    const [http, grpc, serfLan, serfWan, server] = await freePorts(host, 5);
    return { name, host, ports: { http, grpc, serfLan, serfWan, server } };
  }

  /**
   * Writes a datacenter's configuration and starts its server; through the gateways, waits for its
   * leader and starts its gateways. `all` are the datacenters starting together (WAN joins).
   */
  private async startDatacenter(planned: PlannedDatacenter, all: PlannedDatacenter[]): Promise<RealDatacenter> {
    const { name, host, ports } = planned;
    const secure = this.options.secure === true;
    const throughGateways = this.options.throughGateways;
    this.mesh.datacenters.push({
      name,
      ...(secure ? {} : { ports: { grpc: ports.grpc } }),
      acl: { enabled: this.options.acl === true },
      tls: { enabled: secure },
      gossipEncryption: { enabled: secure },
    });
    const token = this.managementToken;
    const primary = this.mesh.primaryDatacenter;
    const dir = path.join(this.workDir, name);
    await fs.mkdir(path.join(dir, "data"), { recursive: true });
    const tlsFiles = secure ? await writeServerTls(dir, this.secrets!.ca, name, host) : undefined;
    const rendered = renderAgentConfig(this.mesh, name, {
      clientAddr: host,
      ui: false,
      ...(throughGateways
        ? name === primary
          ? {}
          : { primaryGateways: this.primaryGateways }
        : { retryJoinWan: all.filter((other) => other.name !== name).map((o) => `${o.host}:${o.ports.serfWan}`) }),
      initialManagementToken: token,
      // The harness's servers share the management token; a deployment gives each its own.
      agentToken: token,
      replicationToken: name === primary ? undefined : token,
      tlsFiles,
      gossipKey: this.secrets?.gossipKey,
    });
    const listeners = secure
      ? { http: -1, https: ports.http, grpc: -1, grpc_tls: ports.grpc }
      : { http: ports.http, https: -1, grpc_tls: -1 };
    const overlay = {
      node_name: `${name}-server`,
      data_dir: path.join(dir, "data"),
      bind_addr: host,
      advertise_addr: host,
      // Through the gateways: a WAN address nothing answers on (TEST-NET-1), so a server that
      // dialled another datacenter's server directly would fail; only the gateways connect them.
      advertise_addr_wan: throughGateways ? `192.0.2.${this.datacenters.length + 1}` : host,
      ports: {
        ...listeners,
        dns: -1,
        serf_lan: ports.serfLan,
        serf_wan: ports.serfWan,
        server: ports.server,
      },
      log_level: "debug",
      disable_update_check: true,
      performance: { raft_multiplier: 1 },
      // Through the gateways, a secondary retries the primary's gateways and the WAN join every 2 s (Consul: 30 s).
      ...(throughGateways ? { primary_gateways_interval: "2s", retry_interval_wan: "2s" } : {}),
    };
    await fs.writeFile(path.join(dir, "agent.json"), JSON.stringify(rendered, null, 2));
    await fs.writeFile(path.join(dir, "loopback.json"), JSON.stringify(overlay, null, 2));
    const process = startServer(name, dir);
    const httpAddress = `${secure ? "https" : "http"}://${host}:${ports.http}`;
    const caPem = this.secrets?.ca.caPem;
    const dc: RealDatacenter = {
      name,
      host,
      ports,
      httpAddress,
      grpcAddress: `${host}:${ports.grpc}`,
      caFile: tlsFiles?.caFile,
      process,
      renderedConfig: rendered as unknown as Record<string, unknown>,
      api: (method, apiPath, body, asToken) => callApi(httpAddress, method, apiPath, body, asToken ?? token, caPem),
    };
    this.datacenters.push(dc);
    if (throughGateways) {
      await this.waitLeader(dc);
      const gateways = await throughGateways(dc, this);
      if (name === primary) this.primaryGateways = gateways;
    }
    return dc;
  }

  /** The datacenter called `name`. */
  dc(name: string): RealDatacenter {
    const dc = this.datacenters.find((d) => d.name === name);
    if (!dc) throw new Error(`no datacenter ${name}`);
    return dc;
  }

  /** The trust domain (`<cluster-id>.consul`) from the primary's CA roots. */
  async trustDomain(): Promise<string> {
    const roots = (await this.datacenters[0].api("GET", "/v1/agent/connect/ca/roots")).json as { TrustDomain?: string };
    if (!roots?.TrustDomain) throw new Error("no TrustDomain in the CA roots");
    return roots.TrustDomain;
  }

  /** The end of every server's log, for failure messages. */
  logs(lines = 20): string {
    return this.datacenters.map((dc) => `--- ${dc.name} (${dc.process.logFile})\n${dc.process.tail(lines)}`).join("\n");
  }

  /**
   * Kills a datacenter's server (SIGKILL, as a crash), waits `downMs`, and starts it again on the
   * same configuration and data; resolves once it has a leader again.
   */
  async crashAndRestart(name: string, downMs: number): Promise<void> {
    const dc = this.dc(name);
    await dc.process.stop("SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, downMs));
    dc.process = startServer(name, path.join(this.workDir, name));
    await this.waitReady([dc]);
  }

  private async waitLeader(dc: RealDatacenter): Promise<void> {
    await eventually(
      `${dc.name} to elect a leader`,
      async () => {
        if (!dc.process.alive) throw new GiveUp(`consul ${dc.name} exited`);
        const leader = await dc.api("GET", "/v1/status/leader");
        return leader.status === 200 && typeof leader.json === "string" && leader.json !== "";
      },
      { timeoutMs: 60_000, describe: () => this.logs() },
    );
  }

  private async waitReady(datacenters = this.datacenters): Promise<void> {
    const names = this.datacenters.map((d) => d.name).sort();
    for (const dc of datacenters) {
      const describe = () => this.logs();
      await this.waitLeader(dc);
      await eventually(
        `${dc.name} to see every datacenter over the WAN`,
        async () => {
          const answer = await dc.api("GET", "/v1/catalog/datacenters");
          return (
            answer.status === 200 && JSON.stringify([...(answer.json as string[])].sort()) === JSON.stringify(names)
          );
        },
        { timeoutMs: 60_000, describe },
      );
      if (this.managementToken) {
        // In a secondary datacenter the token works once ACL replication has brought it there; the
        // agent's own endpoints resolve it locally, and may refuse it a little longer than the ACL
        // endpoint (which can ask the primary): both must accept it (a CI run under load saw the gap).
        await eventually(
          `${dc.name} to accept the management token`,
          async () =>
            (await dc.api("GET", "/v1/acl/token/self")).status === 200 &&
            (await dc.api("GET", "/v1/agent/self")).status === 200,
          { timeoutMs: 60_000, describe },
        );
      }
      await eventually(
        `${dc.name} to have an active Connect CA`,
        async () => {
          const answer = await dc.api("GET", "/v1/agent/connect/ca/roots");
          const roots = answer.json as { ActiveRootID?: string; Roots?: unknown[] } | undefined;
          return answer.status === 200 && !!roots?.ActiveRootID && (roots.Roots?.length ?? 0) > 0;
        },
        { timeoutMs: 60_000, describe },
      );
    }
  }

  /** Stops every server by its PID and removes the work folder (kept with `keep` or `KEEP_REAL_CONSUL=1`, for the logs). */
  async stop(keep = false): Promise<void> {
    await Promise.all(this.datacenters.map((dc) => dc.process.stop("SIGTERM", 10_000)));
    if (!keep && process.env.KEEP_REAL_CONSUL !== "1") await fs.rm(this.workDir, { recursive: true, force: true });
  }
}

/** Starts the server of datacenter `name` from the configuration files in `dir`. */
function startServer(name: string, dir: string): TestProcess {
  const args = ["agent", "-config-file", path.join(dir, "agent.json"), "-config-file", path.join(dir, "loopback.json")];
  return TestProcess.start(`consul ${name}`, toolPath("consul"), args, { logFile: path.join(dir, "consul.log") });
}

/** Writes a server's TLS files into `dir`: the CA, and a certificate for `host` signed by it. */
async function writeServerTls(dir: string, ca: CertificateAuthorityPem, dc: string, host: string) {
  const cert = await issueServerCertificate(ca, { datacenter: dc, nodes: [`${dc}-server`], hosts: [host] });
  const files = {
    caFile: path.join(dir, "ca.pem"),
    certFile: path.join(dir, "server.pem"),
    keyFile: path.join(dir, "server-key.pem"),
  };
  await fs.writeFile(files.caFile, ca.caPem);
  await fs.writeFile(files.certFile, cert.certPem);
  await fs.writeFile(files.keyFile, cert.keyPem, { mode: 0o600 });
  return files;
}

/** One HTTPS request, verified against `caPem`: status, headers and body. */
function httpsRequest(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  caPem: string,
) {
  return new Promise<{ status: number; headers: Headers; text: string }>((resolve, reject) => {
    const req = https.request(url, { method, headers, ca: caPem, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const out = new Headers();
        for (const [key, value] of Object.entries(res.headers)) if (typeof value === "string") out.set(key, value);
        resolve({ status: res.statusCode ?? 0, headers: out, text: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url}: no answer in 30 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** One HTTP API call; never throws on a status, only on a transport failure. */
export async function callApi(
  base: string,
  method: string,
  apiPath: string,
  body?: unknown,
  token?: string,
  caPem?: string,
): Promise<ApiAnswer> {
  const headers: Record<string, string> = {};
  if (token) headers["X-Consul-Token"] = token;
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  const res = caPem
    ? await httpsRequest(`${base}${apiPath}`, method, headers, payload, caPem)
    : await fetch(`${base}${apiPath}`, { method, headers, body: payload, signal: AbortSignal.timeout(30_000) }).then(
        async (r) => ({ status: r.status, headers: r.headers, text: await r.text() }),
      );
  const text = res.text;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const index = res.headers.get("x-consul-index");
  return {
    status: res.status,
    text,
    json,
    index: index === null ? undefined : Number(index),
    filtered: res.headers.get("x-consul-results-filtered-by-acls"),
  };
}

/** The security settings an agent reports in `GET /v1/agent/self`, as the secure-by-default tests compare them. */
export interface AgentSecurity {
  HTTPPort: number;
  HTTPSPort: number;
  GRPCPort: number;
  GRPCTLSPort: number;
  rpcVerifyIncoming: boolean;
  rpcVerifyOutgoing: boolean;
  rpcVerifyServerHostname: boolean;
  httpsVerifyIncoming: boolean;
  grpcVerifyIncoming: boolean;
  /** `"hidden"` when a key is set: Consul never shows it. */
  EncryptKey: string;
  DisableKeyringFile: boolean;
  lanEncrypted: string;
  wanEncrypted: string;
  ACLsEnabled: boolean;
  ACLDefaultPolicy: string;
}

/** What an agent with every secure default reports, but where its HTTPS and gRPC TLS ports are. */
export const SECURE_AGENT: Omit<AgentSecurity, "HTTPSPort" | "GRPCTLSPort"> = {
  HTTPPort: -1,
  GRPCPort: -1,
  rpcVerifyIncoming: true,
  rpcVerifyOutgoing: true,
  rpcVerifyServerHostname: true,
  httpsVerifyIncoming: false,
  grpcVerifyIncoming: false,
  EncryptKey: "hidden",
  DisableKeyringFile: true,
  lanEncrypted: "true",
  wanEncrypted: "true",
  ACLsEnabled: true,
  ACLDefaultPolicy: "deny",
};

/**
 * The security settings of an agent's `/v1/agent/self` answer.
 * @param self - The answer's JSON.
 */
export function agentSecurityOf(self: unknown): AgentSecurity {
  const { DebugConfig: c, Stats } = self as {
    DebugConfig: Record<string, unknown> & {
      TLS: { InternalRPC: Record<string, boolean>; HTTPS: Record<string, boolean>; GRPC: Record<string, boolean> };
      ACLResolverSettings: { ACLDefaultPolicy: string };
    };
    Stats: { serf_lan: { encrypted: string }; serf_wan: { encrypted: string } };
  };
  return {
    HTTPPort: c.HTTPPort as number,
    HTTPSPort: c.HTTPSPort as number,
    GRPCPort: c.GRPCPort as number,
    GRPCTLSPort: c.GRPCTLSPort as number,
    rpcVerifyIncoming: c.TLS.InternalRPC.VerifyIncoming,
    rpcVerifyOutgoing: c.TLS.InternalRPC.VerifyOutgoing,
    rpcVerifyServerHostname: c.TLS.InternalRPC.VerifyServerHostname,
    httpsVerifyIncoming: c.TLS.HTTPS.VerifyIncoming,
    grpcVerifyIncoming: c.TLS.GRPC.VerifyIncoming,
    EncryptKey: c.EncryptKey as string,
    DisableKeyringFile: c.DisableKeyringFile as boolean,
    lanEncrypted: Stats.serf_lan.encrypted,
    wanEncrypted: Stats.serf_wan.encrypted,
    ACLsEnabled: c.ACLsEnabled as boolean,
    ACLDefaultPolicy: c.ACLResolverSettings.ACLDefaultPolicy,
  };
}
