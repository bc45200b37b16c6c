/**
 * A small typed client for the few Consul HTTP API calls the gateway makes: reads with
 * blocking queries (`?index=&wait=`, `X-Consul-Index`), the agent's service register and
 * deregister. Honours `CONSUL_HTTP_ADDR`, `CONSUL_HTTP_TOKEN(_FILE)`, `CONSUL_CACERT` and
 * `CONSUL_HTTP_SSL` (see {@link consulClientOptionsFromEnv}). The token travels only in the
 * `X-Consul-Token` header and never appears in errors or logs.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { consulBaseUrl, consulEnvironment } from "./settings";
import { ConsulError, ConsulSettingError } from "./errors";

/** The agent address when neither the caller nor `CONSUL_HTTP_ADDR` names one, as in Consul's CLI. */
export const DEFAULT_CONSUL_ADDRESS = "127.0.0.1:8500";
/** Default of {@link ConsulClientOptions.requestTimeoutMs}. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

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
  /** Time limit of a non-blocking request, in ms. Default: {@link DEFAULT_REQUEST_TIMEOUT_MS} (10 s). */
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

/** Settings that win over the environment in {@link consulClientOptionsFromEnv} (e.g. from flags). */
export interface ConsulClientOverrides {
  /** Instead of `CONSUL_HTTP_ADDR`. Default: the variable, else {@link DEFAULT_CONSUL_ADDRESS}. */
  address?: string;
  /** Instead of `CONSUL_HTTP_TOKEN` and `CONSUL_HTTP_TOKEN_FILE`. Default: the variables, else none. */
  token?: string;
  /** A PEM file, instead of `CONSUL_CACERT`. Default: the variable, else the system roots. */
  caFile?: string;
  /** Instead of `CONSUL_HTTP_SSL`. Default: the variable, else `false`. */
  ssl?: boolean;
  /** See {@link ConsulClientOptions.requestTimeoutMs}. Default: {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  requestTimeoutMs?: number;
}

/**
 * Builds client options from the environment as Consul's own CLI reads it (`consulEnvironment`:
 * `CONSUL_HTTP_ADDR`, `CONSUL_HTTP_SSL`, `CONSUL_HTTP_TOKEN`, else the content of
 * `CONSUL_HTTP_TOKEN_FILE`, `CONSUL_CACERT`), and reads the files named. A CA file implies https.
 * @param env - The environment. Default: `process.env`.
 * @param overrides - Settings that win over the environment. Default: none.
 * @throws {@link ConsulSettingError} naming `CONSUL_HTTP_TOKEN_FILE` or `CONSUL_CACERT` when its file cannot be read.
 */
export function consulClientOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  overrides: ConsulClientOverrides = {},
): ConsulClientOptions {
  const consul = consulEnvironment(env);
  const caFile = overrides.caFile || consul.caFile;
  const tokenFile = overrides.token || consul.token ? undefined : consul.tokenFile;
  return {
    address: overrides.address || consul.address || DEFAULT_CONSUL_ADDRESS,
    token:
      overrides.token ||
      consul.token ||
      (tokenFile && readSetting("CONSUL_HTTP_TOKEN_FILE", tokenFile).trim()) ||
      undefined,
    ca: caFile ? readSetting("CONSUL_CACERT", caFile) : undefined,
    ssl: (overrides.ssl ?? consul.ssl) || caFile !== undefined,
    requestTimeoutMs: overrides.requestTimeoutMs,
  };
}

/** The content of a file a setting names, or a {@link ConsulSettingError} naming the setting. */
function readSetting(variable: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new ConsulSettingError(variable, file, (error as NodeJS.ErrnoException).code ?? "error");
  }
}

/** A Consul HTTP API client. */
export class ConsulClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly token: string | undefined;
  private readonly requestTimeoutMs: number;

  /**
   * @param options address, token, TLS; see {@link ConsulClientOptions}.
   * @throws ConsulAddressError (mesh layer) when the address is not `http(s)://host:port` or `host:port`.
   */
  constructor(options: ConsulClientOptions) {
    this.base = consulBaseUrl(options.address, options.ssl ?? false);
    this.token = options.token;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
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
    const { status, headers, body } = await this.request(
      "GET",
      `${path}${search ? `?${search}` : ""}`,
      undefined,
      timeoutMs,
      signal,
    );
    if (status < 200 || status > 299) throw statusError("GET", path, status, body);
    let decoded: T;
    try {
      decoded = JSON.parse(body) as T;
    } catch {
      throw new ConsulError("E_CONSUL_BAD_RESPONSE", `GET ${path}: response is not JSON`);
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
    const result = await this.request(
      "PUT",
      path,
      body === undefined ? undefined : JSON.stringify(body),
      this.requestTimeoutMs,
      signal,
    );
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
      if (signal?.aborted) return reject(new ConsulError("E_CONSUL_ABORTED", `${where}: aborted`));
      let settled = false;
      const settle = (
        error: ConsulError | undefined,
        value?: { status: number; headers: http.IncomingHttpHeaders; body: string },
      ) => {
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
          settle(undefined, {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", () => settle(new ConsulError("E_CONSUL_UNREACHABLE", `${where}: response interrupted`)));
      });
      const timer = setTimeout(() => {
        settle(new ConsulError("E_CONSUL_TIMEOUT", `${where}: no answer within ${Math.round(timeoutMs)} ms`));
        req.destroy();
      }, timeoutMs);
      const onAbort = () => {
        settle(new ConsulError("E_CONSUL_ABORTED", `${where}: aborted`));
        req.destroy();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("error", (error: NodeJS.ErrnoException) =>
        settle(new ConsulError("E_CONSUL_UNREACHABLE", `${where}: ${error.code ?? error.message} (${this.base.host})`)),
      );
      req.end(body);
    });
  }
}

function statusError(method: string, path: string, status: number, body: string): ConsulError {
  const detail = body.trim().split("\n")[0].slice(0, 200);
  const hint =
    status === 403
      ? " (check the ACL token's policy: service:write on the gateway, service:read and node:read on all)"
      : "";
  return new ConsulError(
    "E_CONSUL_HTTP_STATUS",
    `${method} ${path}: HTTP ${status}${detail ? `: ${detail}` : ""}${hint}`,
    status,
  );
}
