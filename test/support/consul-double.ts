/**
 * A contract double of one Consul agent and the catalog it sees, built from Consul's
 * documented HTTP API, for tests that cannot run a real Consul here.
 *
 * Kept honest: the same paths, methods, headers (`X-Consul-Token`, `X-Consul-Index`,
 * `X-Consul-KnownLeader`), blocking-query semantics (`?index=&wait=`) and JSON field names
 * (PascalCase) as Consul. What it implements:
 *
 *   PUT    /v1/agent/service/register            PUT /v1/agent/service/deregister/:id
 *   GET    /v1/agent/services                    GET /v1/agent/service/:id
 *   GET    /v1/agent/self                        GET /v1/agent/connect/ca/roots
 *   PUT    /v1/catalog/register                  PUT /v1/catalog/deregister
 *   GET    /v1/catalog/datacenters               GET /v1/catalog/services[?dc=&filter=]
 *   GET    /v1/health/service/:name[?dc=&passing] GET /v1/health/connect/:name[?dc=&passing]
 *   PUT    /v1/config                            GET/DELETE /v1/config/:kind/:name
 *   GET    /v1/config/:kind
 *
 * Each datacenter has its own Raft index, raised by every write there. A blocking query
 * (`index=N`) on a datacenter returns when its index passes N or after `wait` (default 5m,
 * Consul's cap 10m, plus up to wait/16 jitter in Consul; none here); as in Consul, a return
 * does not mean the result changed.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { AddressInfo } from "node:net";

/** A recorded request, for assertions on paths, headers and bodies. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Value of `X-Consul-Token` (or the bearer token of `Authorization`), if any. */
  token?: string;
  body?: unknown;
}

/** Options of the double. */
export interface ConsulDoubleOptions {
  /** The agent's datacenter. Default: `"dc1"`. */
  datacenter?: string;
  /** Further datacenters in the WAN federation. Default: none. */
  federatedDatacenters?: string[];
  /** The Connect trust domain. Default: a fixed test cluster ID. */
  trustDomain?: string;
  /** The agent's node name and address. Default: `node-1` at `127.0.0.1`. */
  node?: { name: string; address: string };
  /**
   * ACL tokens that are accepted, each with every permission. When set, ACLs are on with
   * `default_policy = deny`, as real Consul answers them: a token not in the list gets
   * `403 ACL not found`; a request without a token is anonymous, so lists (agent services,
   * catalog services, health) come back empty, the datacenter list and CA roots are served,
   * and anything else gets `403 Permission denied`. Default: ACLs off.
   */
  tokens?: string[];
}

/** A health check status. */
export type CheckStatus = "passing" | "warning" | "critical" | "maintenance";

interface CatalogNode {
  Node: string;
  Address: string;
  Datacenter: string;
  TaggedAddresses: Record<string, string>;
  Meta: Record<string, string>;
}

interface CatalogService {
  node: string;
  /** The service in Consul's `AgentService` shape (ID, Service, Kind, Port, Address, TaggedAddresses, Proxy…). */
  service: Record<string, unknown>;
  /** One check of the service; `maintenance` is Consul's `_service_maintenance` check (critical). */
  status: CheckStatus;
}

interface Datacenter {
  index: number;
  nodes: Map<string, CatalogNode>;
  services: Map<string, CatalogService>; // key: `${node}/${serviceId}`
  configEntries: Map<string, Record<string, unknown>>; // key: `${kind}/${name}`
}

interface Fault {
  match: (method: string, path: string) => boolean;
  status: number;
  /** Hold the request this long before answering (to test client time-outs). */
  delayMs: number;
  remaining: number;
}

/** With ACLs on, what an anonymous request may read: no ACL guards these. */
const ANONYMOUS_ALLOWED = /^\/v1\/(catalog\/datacenters|agent\/connect\/ca\/roots)$/;
/** Lists an anonymous token sees filtered to nothing, as objects and as arrays. */
const ANONYMOUS_FILTERED_OBJECT = /^\/v1\/(agent\/services|catalog\/services)$/;
const ANONYMOUS_FILTERED_LIST = /^\/v1\/health\/service\/[^/]+$/;

const DEFAULT_TRUST_DOMAIN = "11111111-2222-3333-4444-555555555555.consul";
const MAX_WAIT_MS = 10 * 60 * 1000;

/** A Consul agent double on `127.0.0.1:<random port>`. */
export class ConsulDouble {
  /** Every request received, in order. */
  readonly requests: RecordedRequest[] = [];
  readonly datacenter: string;
  readonly trustDomain: string;
  private readonly node: { name: string; address: string };
  private readonly tokens?: Set<string>;
  private readonly datacenters = new Map<string, Datacenter>();
  private readonly waiters = new Set<{ dc: string; wake: () => void }>();
  private readonly faults: Fault[] = [];
  private server?: Server;
  private baseUrl = "";

  private constructor(options: ConsulDoubleOptions) {
    this.datacenter = options.datacenter ?? "dc1";
    this.trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
    this.node = options.node ?? { name: "node-1", address: "127.0.0.1" };
    this.tokens = options.tokens ? new Set(options.tokens) : undefined;
    for (const dc of [this.datacenter, ...(options.federatedDatacenters ?? [])]) {
      this.datacenters.set(dc, { index: 1, nodes: new Map(), services: new Map(), configEntries: new Map() });
    }
    this.upsertNode(this.datacenter, { Node: this.node.name, Address: this.node.address });
    // Every datacenter's servers register the `consul` service, a typical service (Kind "").
    for (const dc of this.datacenters.keys()) {
      const server = { Node: `${dc}-server`, Address: "127.0.0.1" };
      this.upsertNode(dc, server);
      this.putService(dc, server.Node, this.agentService("consul", "consul", { Port: 8300 }), "passing");
    }
  }

  /** Starts a double listening on 127.0.0.1 on a free port. */
  static async start(options: ConsulDoubleOptions = {}): Promise<ConsulDouble> {
    const double = new ConsulDouble(options);
    const server = createServer((req, res) => void double.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    double.server = server;
    double.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return double;
  }

  /** `http://127.0.0.1:<port>`, the value for `CONSUL_HTTP_ADDR`. */
  get url(): string {
    return this.baseUrl;
  }

  /** Stops the server, releasing blocked queries. */
  async close(): Promise<void> {
    for (const waiter of this.waiters) waiter.wake();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  // ---- test controls (what an operator or the cluster would do) -------------------------

  /** The current Raft index of a datacenter. */
  index(dc = this.datacenter): number {
    return this.dc(dc).index;
  }

  /**
   * Sets a datacenter's index, e.g. lower than before to simulate a snapshot restore or a
   * leader change (clients must then reset to 0), and wakes blocked queries.
   */
  setIndex(dc: string, index: number): void {
    this.dc(dc).index = index;
    this.wake(dc);
  }

  /** Sets the health of a service instance (by ID), anywhere in a datacenter's catalog. */
  setServiceHealth(dc: string, serviceId: string, status: CheckStatus): void {
    const entry = [...this.dc(dc).services.values()].find((s) => s.service.ID === serviceId);
    if (!entry) throw new Error(`consul double: no service ${serviceId} in ${dc}`);
    entry.status = status;
    this.bump(dc);
  }

  /**
   * Answers the next `count` requests matching `method` and `pathPrefix` with `status`
   * (after `delayMs`), as a failing or slow Consul would. `status` 0 means "hold for
   * `delayMs`, then answer normally".
   */
  injectFault(options: {
    method?: string;
    pathPrefix: string;
    status: number;
    count?: number;
    delayMs?: number;
  }): void {
    this.faults.push({
      match: (method, path) => (!options.method || options.method === method) && path.startsWith(options.pathPrefix),
      status: options.status,
      delayMs: options.delayMs ?? 0,
      remaining: options.count ?? 1,
    });
  }

  /** Services registered through this agent, as `GET /v1/agent/services` shows them. */
  agentServices(): Record<string, Record<string, unknown>> {
    const result: Record<string, Record<string, unknown>> = {};
    for (const entry of this.dc(this.datacenter).services.values()) {
      if (entry.node === this.node.name) result[entry.service.ID as string] = entry.service;
    }
    return result;
  }

  /** Config entries written to a datacenter, by `kind/name`. */
  configEntries(dc = this.datacenter): Record<string, Record<string, unknown>> {
    return Object.fromEntries(this.dc(dc).configEntries);
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://consul");
    const method = req.method ?? "GET";
    const path = decodeURIComponent(url.pathname);
    const query = Object.fromEntries(url.searchParams);
    const token = tokenOf(req);
    let body: unknown;
    const raw = await readBody(req);
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw);
      } catch {
        this.requests.push({ method, path, query, token, body: raw });
        return send(res, 400, `Request decode failed: invalid JSON`);
      }
    }
    this.requests.push({ method, path, query, token, body });

    const fault = this.faults.find((f) => f.remaining > 0 && f.match(method, path));
    if (fault) {
      fault.remaining--;
      if (fault.delayMs > 0) await sleep(fault.delayMs);
      if (fault.status !== 0) return send(res, fault.status, `injected fault ${fault.status}`);
    }
    if (this.tokens && !(token && this.tokens.has(token))) {
      if (token) return send(res, 403, "ACL not found");
      if (method === "GET" && ANONYMOUS_ALLOWED.test(path)) {
        // fall through: no ACL guards these
      } else if (method === "GET" && ANONYMOUS_FILTERED_OBJECT.test(path)) {
        return json(res, {}, this.dc(this.datacenter).index);
      } else if (method === "GET" && ANONYMOUS_FILTERED_LIST.test(path)) {
        return json(res, [], this.dc(this.datacenter).index);
      } else {
        return send(res, 403, "Permission denied: anonymous token lacks permission");
      }
    }
    try {
      await this.route(method, path, query, body, req, res);
    } catch (error) {
      if (error instanceof HttpError) return send(res, error.status, error.message);
      throw error;
    }
  }

  private async route(
    method: string,
    path: string,
    query: Record<string, string>,
    body: unknown,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const dcName = query.dc || this.datacenter;
    let m: RegExpMatchArray | null;

    if (method === "PUT" && path === "/v1/agent/service/register") return this.agentRegister(body, res);
    if (method === "PUT" && (m = path.match(/^\/v1\/agent\/service\/deregister\/(.+)$/)))
      return this.agentDeregister(m[1], res);
    if (method === "GET" && path === "/v1/agent/services") return json(res, this.agentServices());
    if (method === "GET" && (m = path.match(/^\/v1\/agent\/service\/(.+)$/))) {
      const service = this.agentServices()[m[1]];
      if (!service) throw new HttpError(404, `unknown service ID: ${m[1]}`);
      return json(res, service);
    }
    if (method === "GET" && path === "/v1/agent/self") {
      return json(res, {
        Config: { Datacenter: this.datacenter, NodeName: this.node.name },
        Member: { Addr: this.node.address },
      });
    }
    if (method === "GET" && path === "/v1/agent/connect/ca/roots") {
      return json(
        res,
        { ActiveRootID: "test-root", TrustDomain: this.trustDomain, Roots: [] },
        this.dc(this.datacenter).index,
      );
    }
    if (method === "PUT" && path === "/v1/catalog/register") return this.catalogRegister(body, res);
    if (method === "PUT" && path === "/v1/catalog/deregister") return this.catalogDeregister(body, res);

    if (method === "GET" && path === "/v1/catalog/datacenters") return json(res, [...this.datacenters.keys()].sort());

    const dc = this.datacenters.get(dcName);
    if (!dc) throw new HttpError(500, `No path to datacenter`);

    if (method === "GET" && path === "/v1/catalog/services") {
      await this.block(dcName, query, req);
      const filter = compileFilter(query.filter);
      const result: Record<string, string[]> = {};
      for (const entry of dc.services.values()) {
        if (!filter({ ...entry.service, ServiceKind: entry.service.Kind ?? "", ServiceName: entry.service.Service }))
          continue;
        const name = entry.service.Service as string;
        const tags = new Set([...(result[name] ?? []), ...((entry.service.Tags as string[]) ?? [])]);
        result[name] = [...tags].sort();
      }
      return json(res, result, dc.index);
    }
    if (method === "GET" && (m = path.match(/^\/v1\/health\/(service|connect)\/(.+)$/))) {
      await this.block(dcName, query, req);
      const [, mode, name] = m;
      const passingOnly = "passing" in query && query.passing !== "false";
      const entries = [...dc.services.values()]
        .filter((e) =>
          mode === "service"
            ? e.service.Service === name
            : e.service.Kind === "connect-proxy" &&
              (e.service.Proxy as Record<string, unknown>)?.DestinationServiceName === name,
        )
        .filter((e) => !passingOnly || e.status === "passing")
        .map((e) => this.healthEntry(dcName, e));
      return json(res, entries, dc.index);
    }

    if (method === "PUT" && path === "/v1/config") return this.configPut(dcName, body, res);
    if ((m = path.match(/^\/v1\/config\/([^/]+)\/(.+)$/))) {
      const key = `${m[1]}/${m[2]}`;
      if (method === "GET") {
        const entry = dc.configEntries.get(key);
        if (!entry) throw new HttpError(404, `Config entry not found for "${m[1]}" / "${m[2]}"`);
        return json(res, entry, dc.index);
      }
      if (method === "DELETE") {
        dc.configEntries.delete(key);
        this.bump(dcName);
        return json(res, true);
      }
    }
    if (method === "GET" && (m = path.match(/^\/v1\/config\/([^/]+)$/))) {
      const kind = m[1];
      return json(
        res,
        [...dc.configEntries.values()].filter((e) => e.Kind === kind),
        dc.index,
      );
    }
    throw new HttpError(404, `no handler for ${method} ${path}`);
  }

  private agentRegister(body: unknown, res: ServerResponse): void {
    const reg = asObject(body);
    const name = reg.Name;
    if (typeof name !== "string" || name === "") throw new HttpError(400, "Missing service name");
    const kind = (reg.Kind as string) ?? "";
    if (kind === "connect-proxy" && !(reg.Proxy as Record<string, unknown>)?.DestinationServiceName) {
      throw new HttpError(
        400,
        "Validation failed: 1 error occurred:\n\t* Proxy.DestinationServiceName must be non-empty for Connect proxy services\n\n",
      );
    }
    const id = (reg.ID as string) || name;
    const service = this.agentService(id, name, reg);
    // The double runs no checks: a registered service is passing until a test says otherwise.
    this.putService(this.datacenter, this.node.name, service, "passing");

    const sidecar = (reg.Connect as Record<string, unknown> | undefined)?.SidecarService as
      Record<string, unknown> | undefined;
    if (sidecar) {
      const sidecarId = `${id}-sidecar-proxy`;
      const proxy = { ...((sidecar.Proxy as Record<string, unknown>) ?? {}) };
      proxy.DestinationServiceName ??= name;
      proxy.DestinationServiceID ??= id;
      const sidecarService = this.agentService(sidecarId, `${name}-sidecar-proxy`, {
        ...sidecar,
        Kind: "connect-proxy",
        Port: sidecar.Port ?? 21000,
        Proxy: proxy,
      });
      this.putService(this.datacenter, this.node.name, sidecarService, "passing");
    }
    send(res, 200, "");
  }

  private agentDeregister(id: string, res: ServerResponse): void {
    const dc = this.dc(this.datacenter);
    const key = `${this.node.name}/${id}`;
    if (!dc.services.has(key))
      throw new HttpError(
        404,
        `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`,
      );
    dc.services.delete(key);
    // Consul removes the sidecar registered with the service as well.
    dc.services.delete(`${this.node.name}/${id}-sidecar-proxy`);
    this.bump(this.datacenter);
    send(res, 200, "");
  }

  private catalogRegister(body: unknown, res: ServerResponse): void {
    const reg = asObject(body);
    const dcName = (reg.Datacenter as string) || this.datacenter;
    if (!this.datacenters.has(dcName)) throw new HttpError(500, "No path to datacenter");
    if (typeof reg.Node !== "string" || typeof reg.Address !== "string")
      throw new HttpError(400, "Must provide node and address");
    this.upsertNode(dcName, {
      Node: reg.Node,
      Address: reg.Address,
      TaggedAddresses: reg.TaggedAddresses as Record<string, string>,
    });
    const svc = reg.Service as Record<string, unknown> | undefined;
    if (svc) {
      const name = svc.Service as string;
      if (!name) throw new HttpError(400, "Must provide service name with ID");
      const checks =
        (reg.Checks as Array<{ Status?: string }> | undefined) ?? (reg.Check ? [reg.Check as { Status?: string }] : []);
      const status = (checks.find((c) => c.Status && c.Status !== "passing")?.Status as CheckStatus) ?? "passing";
      this.putService(dcName, reg.Node, this.agentService((svc.ID as string) || name, name, svc), status);
    } else {
      this.bump(dcName);
    }
    json(res, true);
  }

  private catalogDeregister(body: unknown, res: ServerResponse): void {
    const reg = asObject(body);
    const dcName = (reg.Datacenter as string) || this.datacenter;
    const dc = this.dc(dcName);
    if (reg.ServiceID) dc.services.delete(`${reg.Node}/${reg.ServiceID}`);
    else {
      dc.nodes.delete(reg.Node as string);
      for (const key of [...dc.services.keys()]) if (key.startsWith(`${reg.Node}/`)) dc.services.delete(key);
    }
    this.bump(dcName);
    json(res, true);
  }

  private configPut(dcName: string, body: unknown, res: ServerResponse): void {
    const entry = asObject(body);
    const kind = entry.Kind;
    const name = entry.Name;
    if (typeof kind !== "string" || typeof name !== "string")
      throw new HttpError(400, "Request decode failed: missing Kind or Name");
    if (kind === "proxy-defaults" && name !== "global") {
      throw new HttpError(500, `invalid name ("${name}"), only "global" is supported`);
    }
    // Consul 1.16 stores any MeshGateway.Mode unvalidated (an unknown one included), as here.
    const dc = this.dc(dcName);
    const key = `${kind}/${name}`;
    const previous = dc.configEntries.get(key);
    const index = this.bump(dcName);
    dc.configEntries.set(key, { ...entry, CreateIndex: previous?.CreateIndex ?? index, ModifyIndex: index });
    json(res, true);
  }

  // ---- state -----------------------------------------------------------------------------

  private agentService(id: string, name: string, reg: Record<string, unknown>): Record<string, unknown> {
    const port = (reg.Port as number) ?? 0;
    const taggedAddresses: Record<string, { Address: string; Port: number }> = {};
    for (const [key, value] of Object.entries(
      (reg.TaggedAddresses as Record<string, { Address: string; Port: number }>) ?? {},
    )) {
      taggedAddresses[key] = { Address: value.Address, Port: value.Port };
    }
    return {
      Kind: reg.Kind ?? "",
      ID: id,
      Service: name,
      Tags: (reg.Tags as string[]) ?? [],
      Meta: (reg.Meta as Record<string, string>) ?? {},
      Port: port,
      Address: (reg.Address as string) ?? "",
      TaggedAddresses: taggedAddresses,
      Weights: { Passing: 1, Warning: 1 },
      EnableTagOverride: false,
      // As Consul: a Proxy block is kept for proxies and gateways only (dropped silently on a
      // typical service), and Connect only for a native service (a sidecar is a service of its own).
      ...(reg.Proxy && (reg.Kind === "connect-proxy" || reg.Kind === "mesh-gateway") ? { Proxy: reg.Proxy } : {}),
      ...((reg.Connect as { Native?: boolean } | undefined)?.Native ? { Connect: { Native: true } } : {}),
      Datacenter: this.datacenter,
    };
  }

  private healthEntry(dcName: string, entry: CatalogService): Record<string, unknown> {
    const node = this.dc(dcName).nodes.get(entry.node);
    const status = entry.status === "maintenance" ? "critical" : entry.status;
    const checkId =
      entry.status === "maintenance" ? `_service_maintenance:${entry.service.ID}` : `service:${entry.service.ID}`;
    return {
      Node: { ...node, ID: "", Datacenter: dcName },
      Service: { ...entry.service, Datacenter: dcName },
      Checks: [
        {
          Node: entry.node,
          CheckID: "serfHealth",
          Name: "Serf Health Status",
          Status: "passing",
          ServiceID: "",
          ServiceName: "",
        },
        {
          Node: entry.node,
          CheckID: checkId,
          Name: `Service '${entry.service.Service}' check`,
          Status: status,
          ServiceID: entry.service.ID,
          ServiceName: entry.service.Service,
        },
      ],
    };
  }

  private upsertNode(
    dcName: string,
    node: { Node: string; Address: string; TaggedAddresses?: Record<string, string> },
  ): void {
    this.dc(dcName).nodes.set(node.Node, {
      Node: node.Node,
      Address: node.Address,
      Datacenter: dcName,
      TaggedAddresses: node.TaggedAddresses ?? { lan: node.Address, wan: node.Address },
      Meta: {},
    });
  }

  private putService(dcName: string, node: string, service: Record<string, unknown>, status: CheckStatus): void {
    this.dc(dcName).services.set(`${node}/${service.ID}`, {
      node,
      service: { ...service, Datacenter: dcName },
      status,
    });
    this.bump(dcName);
  }

  private dc(name: string): Datacenter {
    const dc = this.datacenters.get(name);
    if (!dc) throw new Error(`consul double: unknown datacenter ${name}`);
    return dc;
  }

  private bump(dcName: string): number {
    const dc = this.dc(dcName);
    dc.index += 1;
    this.wake(dcName);
    return dc.index;
  }

  private wake(dcName: string): void {
    for (const waiter of [...this.waiters]) if (waiter.dc === dcName) waiter.wake();
  }

  /** Holds a blocking query until the datacenter's index differs from `index`, or `wait` passes. */
  private async block(dcName: string, query: Record<string, string>, req: IncomingMessage): Promise<void> {
    const index = Number(query.index ?? 0);
    if (!Number.isFinite(index) || index <= 0) return;
    if (this.dc(dcName).index !== index) return;
    const waitMs = Math.min(parseWait(query.wait), MAX_WAIT_MS);
    await new Promise<void>((resolve) => {
      const waiter = {
        dc: dcName,
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          req.off("close", waiter.wake);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, waitMs);
      this.waiters.add(waiter);
      req.on("close", waiter.wake);
    });
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The subset of Consul's filter language (go-bexpr) these tests use: `Selector == "value"`
 * and `!=`, joined by `and`. Anything else is refused as Consul 1.16 refuses a selector it does
 * not know: HTTP 500, `Failed to create boolean expression evaluator: …`.
 */
function compileFilter(filter: string | undefined): (fields: Record<string, unknown>) => boolean {
  if (!filter) return () => true;
  const clauses = filter.split(/\s+and\s+/).map((clause) => {
    const m = clause.trim().match(/^([A-Za-z.]+)\s*(==|!=)\s*"([^"]*)"$/);
    if (!m)
      throw new HttpError(
        500,
        `Failed to create boolean expression evaluator: unsupported filter ${JSON.stringify(clause)}`,
      );
    return { selector: m[1], op: m[2], value: m[3] };
  });
  return (fields) =>
    clauses.every(({ selector, op, value }) => {
      const actual = String(fields[selector] ?? "");
      return op === "==" ? actual === value : actual !== value;
    });
}

function parseWait(wait: string | undefined): number {
  if (!wait) return 5 * 60 * 1000;
  const m = wait.match(/^(\d+(?:\.\d+)?)(ms|s|m|h)?$/);
  if (!m) return 5 * 60 * 1000;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Number(m[1]) * unit;
}

function tokenOf(req: IncomingMessage): string | undefined {
  const header = req.headers["x-consul-token"];
  if (typeof header === "string" && header) return header;
  const auth = req.headers.authorization;
  if (auth?.startsWith("Bearer ")) return auth.slice("Bearer ".length);
  return undefined;
}

function asObject(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== "object" || Array.isArray(body))
    throw new HttpError(400, "Request decode failed: expected a JSON object");
  return body as Record<string, unknown>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, value: unknown, index?: number): void {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
    "X-Consul-KnownLeader": "true",
    "X-Consul-LastContact": "0",
  };
  if (index !== undefined) headers["X-Consul-Index"] = String(index);
  res.writeHead(200, headers);
  res.end(JSON.stringify(value));
}

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" });
  res.end(text);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
