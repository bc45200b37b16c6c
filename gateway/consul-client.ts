/**
 * A small typed client for the few Consul HTTP API calls the gateway makes: reads with
 * blocking queries (`?index=&wait=`, `X-Consul-Index`), the agent's service register and
 * deregister. Honours `CONSUL_HTTP_ADDR`, `CONSUL_HTTP_TOKEN`, `CONSUL_CACERT` and
 * `CONSUL_HTTP_SSL` (see {@link consulClientOptionsFromEnv}). The token travels only in the
 * `X-Consul-Token` header and never appears in errors or logs.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";

/** Stable error codes of {@link ConsulError}. */
export type ConsulErrorCode =
  /** Consul answered with a non-2xx status. */
  | "CONSUL_HTTP_STATUS"
  /** No complete answer in time. */
  | "CONSUL_TIMEOUT"
  /** Could not connect, or the connection broke. */
  | "CONSUL_UNREACHABLE"
  /** An answer that is not the JSON expected. */
  | "CONSUL_BAD_RESPONSE"
  /** The request was cancelled by the caller. */
  | "CONSUL_ABORTED"
  /**
   * Consul answered, but left out what the token may not read
   * (`X-Consul-Results-Filtered-By-ACLs: true`): a gateway's token lacks `service:read` or
   * `node:read`. Reported, not thrown: the answer is still used.
   */
  | "CONSUL_ACL_FILTERED";

/** A failed Consul API call; `message` names the method and path, never the token. */
export class ConsulError extends Error {
  /**
   * @param code stable error code.
   * @param message what failed.
   * @param status HTTP status, for `CONSUL_HTTP_STATUS`.
   */
  constructor(
    readonly code: ConsulErrorCode,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "ConsulError";
  }
}

/** Options of a {@link ConsulClient}. */
export interface ConsulClientOptions {
  /**
   * The agent's HTTP API: a URL (`http://127.0.0.1:8500`, `https://consul:8501`) or
   * `host:port` as in `CONSUL_HTTP_ADDR` (then `https` when {@link ConsulClientOptions.ssl}).
   */
  address: string;
  /** ACL token, sent as `X-Consul-Token`. Default: none. */
  token?: string;
  /** PEM CA certificate(s) to verify an `https` agent with. Default: the system roots. */
  ca?: string;
  /** Use `https` for an address without a scheme. Default: `false`. */
  ssl?: boolean;
  /** Time limit of a non-blocking request, in ms. Default: `10000`. */
  requestTimeoutMs?: number;
}

/** A read's result. */
export interface ConsulResponse<T> {
  /** The decoded JSON body. */
  body: T;
  /** `X-Consul-Index`, when the endpoint sent one. */
  index: number | undefined;
  /** Consul left out results the token may not read (`X-Consul-Results-Filtered-By-ACLs: true`). */
  filteredByAcls: boolean;
}

/** Blocking-query parameters of a read. */
export interface BlockingParams {
  /** The index from the previous answer; `0` for a plain read. */
  index: number;
  /** How long Consul may hold the request, in ms. */
  waitMs: number;
}

/**
 * Builds client options from the environment, as Consul's own CLI does.
 * @param env the environment. Default: `process.env`.
 * @param overrides values that win over the environment (e.g. from flags).
 * @throws Error naming `CONSUL_CACERT` when the CA file cannot be read.
 */
export function consulClientOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Omit<ConsulClientOptions, "ca">> & { caFile?: string } = {},
): ConsulClientOptions {
  const address = overrides.address || env.CONSUL_HTTP_ADDR || "127.0.0.1:8500";
  const token = overrides.token || env.CONSUL_HTTP_TOKEN || undefined;
  const caFile = overrides.caFile || env.CONSUL_CACERT || undefined;
  const ssl = overrides.ssl ?? /^(1|true|yes)$/i.test(env.CONSUL_HTTP_SSL ?? "");
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile, "utf8");
    } catch (error) {
      throw new Error(`CONSUL_CACERT: cannot read ${caFile} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    }
  }
  return { address, token, ca, ssl: ssl || caFile !== undefined, requestTimeoutMs: overrides.requestTimeoutMs };
}

/** Parses an agent address into a base URL. */
function baseUrl(address: string, ssl: boolean): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `${ssl ? "https" : "http"}://${address}`;
  const url = new URL(withScheme);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`consul address: unsupported scheme ${url.protocol} (use http or https)`);
  }
  return url;
}

/** A Consul HTTP API client. */
export class ConsulClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly token: string | undefined;
  private readonly requestTimeoutMs: number;

  /**
   * @param options address, token, TLS; see {@link ConsulClientOptions}.
   * @throws Error naming the address when it cannot be parsed.
   */
  constructor(options: ConsulClientOptions) {
    try {
      this.base = baseUrl(options.address, options.ssl ?? false);
    } catch (error) {
      throw new Error(`consul address: ${JSON.stringify(options.address)} is not a URL or host:port (${(error as Error).message})`);
    }
    this.token = options.token;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.agent =
      this.base.protocol === "https:"
        ? new https.Agent({ keepAlive: true, ca: options.ca })
        : new http.Agent({ keepAlive: true });
  }

  /** The agent's base URL (no credentials). */
  get address(): string {
    return this.base.origin;
  }

  /**
   * `GET` a JSON resource, optionally as a blocking query.
   * @param path API path, e.g. `/v1/catalog/services`.
   * @param query query parameters; `undefined` values are left out, `""` sends a bare flag.
   * @param blocking blocking-query parameters. Default: a plain read.
   * @param signal cancels the request.
   */
  async get<T>(
    path: string,
    query: Record<string, string | undefined> = {},
    blocking?: BlockingParams,
    signal?: AbortSignal,
  ): Promise<ConsulResponse<T>> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.append(key, value);
    let timeoutMs = this.requestTimeoutMs;
    if (blocking && blocking.index > 0) {
      params.set("index", String(blocking.index));
      params.set("wait", `${Math.max(1, Math.round(blocking.waitMs))}ms`);
      // Consul adds up to wait/16 of jitter; allow for it and for the answer itself.
      timeoutMs = blocking.waitMs + blocking.waitMs / 16 + this.requestTimeoutMs;
    }
    const search = params.toString().replace(/=(?=&|$)/g, "");
    const { status, headers, body } = await this.request("GET", `${path}${search ? `?${search}` : ""}`, undefined, timeoutMs, signal);
    if (status < 200 || status > 299) throw statusError("GET", path, status, body);
    let decoded: T;
    try {
      decoded = JSON.parse(body) as T;
    } catch {
      throw new ConsulError("CONSUL_BAD_RESPONSE", `GET ${path}: response is not JSON`);
    }
    const header = headers["x-consul-index"];
    const index = typeof header === "string" && /^\d+$/.test(header) ? Number(header) : undefined;
    return { body: decoded, index, filteredByAcls: headers["x-consul-results-filtered-by-acls"] === "true" };
  }

  /**
   * `PUT` a JSON body (agent service register/deregister).
   * @param path API path.
   * @param body JSON body. Default: none.
   * @param signal cancels the request.
   */
  async put(path: string, body?: unknown, signal?: AbortSignal): Promise<void> {
    const result = await this.request("PUT", path, body === undefined ? undefined : JSON.stringify(body), this.requestTimeoutMs, signal);
    if (result.status < 200 || result.status > 299) throw statusError("PUT", path, result.status, result.body);
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private request(
    method: string,
    pathAndQuery: string,
    body: string | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    const url = new URL(pathAndQuery, this.base);
    const headers: http.OutgoingHttpHeaders = { accept: "application/json" };
    if (this.token) headers["x-consul-token"] = this.token;
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(body);
    }
    const where = `${method} ${url.pathname}`;
    const transport = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new ConsulError("CONSUL_ABORTED", `${where}: aborted`));
      let settled = false;
      const settle = (error: ConsulError | undefined, value?: { status: number; headers: http.IncomingHttpHeaders; body: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve(value as { status: number; headers: http.IncomingHttpHeaders; body: string });
      };
      const req = transport.request(url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          settle(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", () => settle(new ConsulError("CONSUL_UNREACHABLE", `${where}: response interrupted`)));
      });
      const timer = setTimeout(() => {
        settle(new ConsulError("CONSUL_TIMEOUT", `${where}: no answer within ${Math.round(timeoutMs)} ms`));
        req.destroy();
      }, timeoutMs);
      const onAbort = () => {
        settle(new ConsulError("CONSUL_ABORTED", `${where}: aborted`));
        req.destroy();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("error", (error: NodeJS.ErrnoException) =>
        settle(new ConsulError("CONSUL_UNREACHABLE", `${where}: ${error.code ?? error.message} (${this.base.host})`)),
      );
      req.end(body);
    });
  }
}

function statusError(method: string, path: string, status: number, body: string): ConsulError {
  const detail = body.trim().split("\n")[0].slice(0, 200);
  const hint = status === 403 ? " (check the ACL token's policy: service:write on the gateway, service:read and node:read on all)" : "";
  return new ConsulError("CONSUL_HTTP_STATUS", `${method} ${path}: HTTP ${status}${detail ? `: ${detail}` : ""}${hint}`, status);
}
