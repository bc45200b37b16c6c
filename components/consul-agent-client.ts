/**
 * A small client for the parts of Consul's agent HTTP API that Pulumi cannot reach through
 * `@pulumi/consul`: registering services with a `Kind` and a `Proxy` (connect proxies,
 * sidecars with upstreams, mesh gateways). Plain Node `http`/`https`, no Pulumi import, so
 * it is tested against a server that speaks Consul's contract and reused by the dynamic
 * provider.
 */
import * as http from "node:http";
import * as https from "node:https";

/** How to reach a Consul agent. */
export interface AgentConnection {
  /**
   * The agent's HTTP address, as in `CONSUL_HTTP_ADDR`: `http://host:port`, `https://host:port`
   * or `host:port` (then `http`).
   */
  address: string;
  /** ACL token sent as `X-Consul-Token`. Default: none (anonymous). */
  token?: string;
  /** PEM CA bundle to verify an `https` agent, as in `CONSUL_CACERT`. Default: Node's CAs. */
  caPem?: string;
  /** Time limit of one request in milliseconds. Default: `10000`. */
  timeoutMs?: number;
}

/** A failed call to the agent API: the request, the status and Consul's error text. */
export class ConsulApiError extends Error {
  /** Stable error code. */
  readonly code = "CONSUL_API_ERROR";
  constructor(
    /** HTTP method. */
    readonly method: string,
    /** Request path. */
    readonly path: string,
    /** HTTP status, or `0` when no response arrived. */
    readonly status: number,
    /** Response body (Consul's error text) or the transport error's message. */
    readonly body: string,
  ) {
    super(`Consul ${method} ${path} failed${status ? ` with HTTP ${status}` : ""}: ${body.trim() || "(empty body)"}`);
    this.name = "ConsulApiError";
  }
}

/** A response of the agent API. */
interface AgentResponse {
  status: number;
  body: string;
}

/** Parses `CONSUL_HTTP_ADDR`-style addresses into a base URL. */
export function agentBaseUrl(address: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`;
  const url = new URL(withScheme);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`agent address must use http or https, got ${JSON.stringify(address)}`);
  }
  return url;
}

/** Sends one request to the agent; resolves with any status, rejects only on transport errors. */
function send(conn: AgentConnection, method: string, path: string, body?: unknown): Promise<AgentResponse> {
  const base = agentBaseUrl(conn.address);
  const url = new URL(path, base);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { Accept: "application/json" };
  if (payload) {
    headers["Content-Type"] = "application/json";
    headers["Content-Length"] = String(payload.length);
  }
  if (conn.token) headers["X-Consul-Token"] = conn.token;
  const timeoutMs = conn.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = { method, headers, timeout: timeoutMs };
    if (url.protocol === "https:" && conn.caPem) options.ca = conn.caPem;
    const req = (url.protocol === "https:" ? https : http).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (err) => reject(new ConsulApiError(method, path, 0, err.message)));
    });
    req.on("timeout", () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
    req.on("error", (err) => reject(new ConsulApiError(method, path, 0, err.message)));
    req.end(payload);
  });
}

/** Fails unless the status is 2xx. */
function expectOk(method: string, path: string, res: AgentResponse): void {
  if (res.status < 200 || res.status > 299) throw new ConsulApiError(method, path, res.status, res.body);
}

/**
 * Registers (or re-registers, replacing the definition) a service with the agent:
 * `PUT /v1/agent/service/register` with the JSON body Consul accepts (PascalCase fields).
 */
export async function registerService(conn: AgentConnection, registration: object): Promise<void> {
  const path = "/v1/agent/service/register";
  expectOk("PUT", path, await send(conn, "PUT", path, registration));
}

/**
 * Deregisters a service (and the sidecar Consul registered with it):
 * `PUT /v1/agent/service/deregister/<id>`. A service the agent no longer knows counts as
 * deregistered, so deleting twice is safe.
 */
export async function deregisterService(conn: AgentConnection, serviceId: string): Promise<void> {
  const path = `/v1/agent/service/deregister/${encodeURIComponent(serviceId)}`;
  const res = await send(conn, "PUT", path);
  if (res.status === 404) return;
  expectOk("PUT", path, res);
}

/**
 * Reads one service as the agent holds it (`GET /v1/agent/service/<id>`), or `undefined`
 * when the agent does not know it.
 */
export async function readService(conn: AgentConnection, serviceId: string): Promise<Record<string, unknown> | undefined> {
  const path = `/v1/agent/service/${encodeURIComponent(serviceId)}`;
  const res = await send(conn, "GET", path);
  if (res.status === 404) return undefined;
  expectOk("GET", path, res);
  return JSON.parse(res.body) as Record<string, unknown>;
}
