/**
 * The one Consul HTTP API client, for every process that calls an agent (the gateway,
 * `consul-mesh plan`): JSON reads with blocking queries (`?index=&wait=`, `X-Consul-Index`)
 * and writes. Its settings come from {@link readConsulSettings}. The token travels only in the
 * `X-Consul-Token` header; it never appears in an error, even when Consul echoes it.
 * Every failure is a {@link ConsulError} naming the request (method and URL, no credentials).
 */
import http from "node:http";
import https from "node:https";
import { ConsulError, type ConsulErrorCode } from "./errors";
import { consulBaseUrl, type ConsulConnection } from "./settings";

/** Default of {@link ConsulClientOptions.requestTimeoutMs}. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** Options of a {@link ConsulClient}: the connection ({@link readConsulSettings}) and its limits. */
export interface ConsulClientOptions extends Omit<ConsulConnection, "ssl"> {
  /** Use `https` for an address without a scheme. Default: `false`. */
  ssl?: boolean;
  /** Time limit of a non-blocking request, from start to last byte, in ms. Default: {@link DEFAULT_REQUEST_TIMEOUT_MS} (10 s). */
  requestTimeoutMs?: number;
  /** Requests in flight at once; more wait for a free connection. Default: no limit. */
  maxConnections?: number;
  /**
   * What an HTTP 401 or 403 tells the user to check, e.g. the rights the caller's token needs.
   * Default: `"check the ACL token and its policy"`.
   */
  deniedHint?: string;
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
 * A kept-alive connection idle this long is closed, about as undici's 4 s (the agent's `timeout`
 * closes free sockets only; requests have their own deadlines): a gateway at rest holds no HTTP
 * connection to the agent.
 */
const IDLE_SOCKET_MS = 5000;

/** A Consul HTTP API client. */
export class ConsulClient {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly token: string | undefined;
  private readonly requestTimeoutMs: number;
  private readonly deniedHint: string;

  /**
   * @param options address, token, TLS and limits; see {@link ConsulClientOptions}.
   * @throws ConsulAddressError when the address is not `http(s)://host:port` or `host:port`.
   */
  constructor(options: ConsulClientOptions) {
    this.base = consulBaseUrl(options.address, options.ssl ?? false);
    this.token = options.token;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.deniedHint = options.deniedHint ?? "check the ACL token and its policy";
    const limits = { keepAlive: true, maxSockets: options.maxConnections ?? Infinity, timeout: IDLE_SOCKET_MS };
    this.agent =
      this.base.protocol === "https:" ? new https.Agent({ ...limits, ca: options.ca }) : new http.Agent(limits);
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
    const answer = await this.request("GET", `${path}${search ? `?${search}` : ""}`, undefined, timeoutMs, signal);
    let decoded: T;
    try {
      decoded = JSON.parse(answer.body) as T;
    } catch {
      throw new ConsulError(
        "E_CONSUL_BAD_RESPONSE",
        `${answer.where}: HTTP ${answer.status} but the answer is not JSON`,
      );
    }
    const header = answer.headers["x-consul-index"];
    const index = typeof header === "string" && /^\d+$/.test(header) ? Number(header) : undefined;
    return { body: decoded, index, filteredByAcls: answer.headers["x-consul-results-filtered-by-acls"] === "true" };
  }

  /**
   * `POST` a JSON body and read the JSON answer (e.g. `/v1/internal/acl/authorize`).
   * @param path API path.
   * @param body JSON body.
   * @param signal cancels the request.
   */
  async post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const answer = await this.request("POST", path, JSON.stringify(body), this.requestTimeoutMs, signal);
    try {
      return JSON.parse(answer.body) as T;
    } catch {
      throw new ConsulError(
        "E_CONSUL_BAD_RESPONSE",
        `${answer.where}: HTTP ${answer.status} but the answer is not JSON`,
      );
    }
  }

  /**
   * `PUT` a JSON body (agent service register/deregister).
   * @param path API path.
   * @param body JSON body. Default: none.
   * @param signal cancels the request.
   */
  async put(path: string, body?: unknown, signal?: AbortSignal): Promise<void> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    await this.request("PUT", path, payload, this.requestTimeoutMs, signal);
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  /** One request; a 2xx answer, or a {@link ConsulError}. `where` names it for errors. */
  private request(
    method: string,
    pathAndQuery: string,
    body: string | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; where: string }> {
    const url = new URL(`${this.base.pathname.replace(/\/$/, "")}${pathAndQuery}`, this.base);
    const headers: http.OutgoingHttpHeaders = { accept: "application/json" };
    if (this.token) headers["x-consul-token"] = this.token;
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(body);
    }
    const where = `${method} ${url.origin}${url.pathname}${url.search}`;
    const fail = (code: ConsulErrorCode, reason: string, status?: number) =>
      new ConsulError(code, `${where}: ${this.redact(reason)}`, status);
    const transport = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(fail("E_CONSUL_ABORTED", "aborted"));
      let settled = false;
      const settle = (
        error: ConsulError | undefined,
        status = 0,
        resHeaders: http.IncomingHttpHeaders = {},
        text = "",
      ) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else if (status < 200 || status > 299) reject(statusError(fail, status, text, this.deniedHint));
        else resolve({ status, headers: resHeaders, body: text, where });
      };
      const req = transport.request(url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          settle(undefined, res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString("utf8")),
        );
        res.on("error", () => settle(fail("E_CONSUL_UNREACHABLE", "the answer was cut off")));
      });
      // A wall-clock limit: a slow answer that trickles in is no better than none.
      const timer = setTimeout(() => {
        settle(fail("E_CONSUL_TIMEOUT", `no complete answer within ${Math.round(timeoutMs)} ms`));
        req.destroy();
      }, timeoutMs);
      const onAbort = () => {
        settle(fail("E_CONSUL_ABORTED", "aborted"));
        req.destroy();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("error", (error: NodeJS.ErrnoException) => settle(fail("E_CONSUL_UNREACHABLE", unreachable(error))));
      req.end(body);
    });
  }

  /** `text` without the token, should Consul (or a proxy in front of it) ever echo it. */
  private redact(text: string): string {
    return this.token ? text.split(this.token).join("<token>") : text;
  }
}

/** Why a connection failed, and what to check. */
function unreachable(error: NodeJS.ErrnoException): string {
  const code = error.code ?? error.message;
  const check = /CERT|SIGNED|VERIFY|ALTNAME/.test(code)
    ? "is the agent's certificate signed by the CA of CONSUL_CACERT?"
    : "is a Consul agent listening there?";
  return `cannot connect (${code}): ${check}`;
}

/** The error of a status other than 2xx, with Consul's first line of explanation. */
function statusError(
  fail: (code: ConsulErrorCode, reason: string, status?: number) => ConsulError,
  status: number,
  body: string,
  deniedHint: string,
): ConsulError {
  const detail = body.trim().split("\n")[0].slice(0, 300);
  const hint = status === 401 || status === 403 ? ` (${deniedHint})` : "";
  return fail("E_CONSUL_HTTP_STATUS", `HTTP ${status}${detail ? `: ${detail}` : ""}${hint}`, status);
}
