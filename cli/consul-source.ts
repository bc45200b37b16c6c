/**
 * The live-Consul source of `consul-mesh plan`: what is really deployed, read from one agent's
 * HTTP API for every datacenter of its WAN federation, as a `MeshFragment`. Address, token and CA
 * certificate are taken as Consul's own CLI takes them (`CONSUL_HTTP_ADDR`, `CONSUL_HTTP_SSL`,
 * `CONSUL_HTTP_TOKEN`, `CONSUL_HTTP_TOKEN_FILE`, `CONSUL_CACERT`). The token travels only in the
 * `X-Consul-Token` header, never in a message.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import {
  catalogMeshFragment,
  type HealthEntryJson,
  type MeshFragment,
  type ProxyDefaultsReadJson,
  type ServiceDefaultsReadJson,
  type SourceProblem,
} from "../mesh";
import { ConsulAddressError } from "../consul/errors";
import { consulBaseUrl, consulEnvironment, type ConsulEnvironment } from "../consul/settings";
import { ConsulSourceError, type ConsulSourceErrorCode } from "./errors";

/** Options of {@link readLiveConsul}. */
export interface LiveConsulOptions {
  /**
   * The agent's HTTP API: `http://host:port`, `https://host:port`, or `host:port` (then `https`
   * when `CONSUL_HTTP_SSL` is true, else `http`). Default: `CONSUL_HTTP_ADDR`, else `http://127.0.0.1:8500`.
   */
  address?: string;
  /**
   * ACL token, sent as `X-Consul-Token`.
   * Default: the one in `CONSUL_HTTP_TOKEN_FILE`, else `CONSUL_HTTP_TOKEN`, else none.
   */
  token?: string;
  /** File holding the ACL token; it wins over `token`, as in Consul's CLI. Default: none. */
  tokenFile?: string;
  /** PEM CA certificate(s) that verify an `https` agent. Default: `CONSUL_CACERT`, else the system's roots. */
  caFile?: string;
  /** The environment the `CONSUL_*` variables are read from. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Time limit of each request, in ms. Default: {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  timeoutMs?: number;
}

/** Default time limit of each request: 10 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** How many requests are in flight at once. */
const CONCURRENCY = 8;

/** The ACL rules that grant what the plan reads, for problems. */
const GRANT = {
  agent: 'agent_prefix "" { policy = "read" }',
  node: 'node_prefix "" { policy = "read" }',
  service: 'service_prefix "" { policy = "read" }',
};

/** One decoded answer. */
interface Answer<T> {
  /** The decoded JSON. */
  body: T;
  /** Consul left out what the token may not read (`X-Consul-Results-Filtered-By-ACLs: true`). */
  filtered: boolean;
}

/** A part of what is read, with the problems met reading it. */
interface Part<T> {
  /** What was read. */
  value: T;
  /** What ACLs hid. */
  problems: SourceProblem[];
}

function readFile(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "error";
    throw new ConsulSourceError("E_CONSUL_CONFIG", `cannot read the ${what} ${file} (${code})`);
  }
}

/** The agent's base URL (see `consulBaseUrl`), as a configuration error of this source. */
function baseUrl(address: string, ssl: boolean): URL {
  try {
    return consulBaseUrl(address, ssl);
  } catch (error) {
    if (error instanceof ConsulAddressError) throw new ConsulSourceError("E_CONSUL_CONFIG", error.message);
    throw error;
  }
}

/** The token as Consul's CLI picks it: `tokenFile`, `token`, `CONSUL_HTTP_TOKEN_FILE`, `CONSUL_HTTP_TOKEN`. */
function tokenOf(options: LiveConsulOptions, env: ConsulEnvironment): string | undefined {
  const file = options.tokenFile || (options.token ? undefined : env.tokenFile);
  if (file) return readFile(file, "token file").trim() || undefined;
  return options.token || env.token;
}

/** Why a connection failed, and what to check. */
function unreachable(error: NodeJS.ErrnoException): string {
  const code = error.code ?? error.message;
  const check = /CERT|SIGNED|VERIFY|ALTNAME/.test(code)
    ? "is the agent's certificate signed by the CA of CONSUL_CACERT?"
    : "is a Consul agent listening there?";
  return `cannot connect (${code}): ${check}`;
}

/** `GET`s of JSON from one agent's HTTP API, at most {@link CONCURRENCY} at once. */
class ConsulApi {
  private readonly agent: http.Agent;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly base: URL,
    private readonly token: string | undefined,
    ca: string | undefined,
    private readonly timeoutMs: number,
  ) {
    const options = { keepAlive: true, maxSockets: CONCURRENCY };
    this.agent = base.protocol === "https:" ? new https.Agent({ ...options, ca }) : new http.Agent(options);
  }

  /**
   * `GET` a JSON resource whose body must pass `ok`.
   * @throws ConsulSourceError for a transport failure, a time-out, a status other than 2xx, or an unexpected body.
   */
  async get<T>(path: string, ok: (body: unknown) => boolean, query: Record<string, string> = {}): Promise<Answer<T>> {
    const search = new URLSearchParams(query).toString();
    const url = `${this.base.origin}${this.base.pathname.replace(/\/$/, "")}${path}${search ? `?${search}` : ""}`;
    if (this.running < CONCURRENCY) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      const answer = await this.request(url);
      if (ok(answer.body)) return answer as Answer<T>;
      const shown = JSON.stringify(answer.body).slice(0, 100);
      throw new ConsulSourceError("E_CONSUL_RESPONSE", `GET ${url}: not the answer Consul gives (${shown})`, { url });
    } finally {
      // Hand the slot over to the next request waiting, if any.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private request(url: string): Promise<Answer<unknown>> {
    const headers: http.OutgoingHttpHeaders = { accept: "application/json" };
    if (this.token) headers["x-consul-token"] = this.token;
    const signal = AbortSignal.timeout(this.timeoutMs);
    return new Promise((resolve, reject) => {
      const fail = (code: ConsulSourceErrorCode, message: string, status?: number) =>
        reject(new ConsulSourceError(code, `GET ${url}: ${this.redact(message)}`, { url, status }));
      // A connection that breaks once the time-out aborted it is a time-out.
      const broken = (message: string) =>
        signal.aborted
          ? fail("E_CONSUL_TIMEOUT", `no complete answer within ${this.timeoutMs} ms`)
          : fail("E_CONSUL_UNREACHABLE", message);
      const transport = url.startsWith("https:") ? https : http;
      const req = transport.get(url, { headers, agent: this.agent, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", () => broken("the answer was cut off"));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString("utf8");
          const said = text.trim().split("\n")[0].slice(0, 300);
          if (status === 401 || status === 403) {
            return fail("E_CONSUL_ACL", `HTTP ${status}: ${said || "permission denied"} (check the ACL token)`, status);
          }
          if (status < 200 || status > 299) {
            return fail("E_CONSUL_HTTP", `HTTP ${status}${said ? `: ${said}` : ""}`, status);
          }
          try {
            resolve({ body: JSON.parse(text), filtered: res.headers["x-consul-results-filtered-by-acls"] === "true" });
          } catch {
            fail("E_CONSUL_RESPONSE", `HTTP ${status} but the answer is not JSON`, status);
          }
        });
      });
      req.on("error", (error: NodeJS.ErrnoException) => broken(unreachable(error)));
    });
  }

  /** `text` without the token, should Consul (or a proxy in front of it) ever echo it. */
  private redact(text: string): string {
    return this.token ? text.split(this.token).join("<token>") : text;
  }
}

const isList = (body: unknown) => Array.isArray(body);
const isMap = (body: unknown) => typeof body === "object" && body !== null && !Array.isArray(body);

/** One datacenter's services, each with its instances, nodes and checks; what ACLs hid becomes a problem. */
async function readDatacenter(api: ConsulApi, datacenter: string): Promise<Part<HealthEntryJson[][]>> {
  const problems: SourceProblem[] = [];
  const query = { dc: datacenter };
  const services = await api.get<Record<string, string[]>>("/v1/catalog/services", isMap, query);
  if (services.filtered) {
    problems.push({
      origin: `Consul ${datacenter}: GET /v1/catalog/services`,
      message: `the token lacks service:read on some services, which are missing from the plan: grant ${GRANT.service}`,
    });
  }
  const names = Object.keys(services.body);
  const answers = await Promise.all(
    names.map((name) => api.get<HealthEntryJson[]>(`/v1/health/service/${encodeURIComponent(name)}`, isList, query)),
  );
  const hidden = names.filter((_, i) => answers[i].filtered);
  if (hidden.length > 0) {
    problems.push({
      origin: `Consul ${datacenter}: GET /v1/health/service/…`,
      message:
        `the token lacks node:read on nodes of ${hidden.join(", ")}, whose instances there are missing from ` +
        `the plan: grant ${GRANT.node}`,
    });
  }
  return { value: answers.map((answer) => answer.body), problems };
}

/** `Config.PrimaryDatacenter` of the agent, or a problem when the token lacks `agent:read`. */
async function readPrimaryDatacenter(api: ConsulApi): Promise<Part<string | undefined>> {
  try {
    const self = await api.get<{ Config?: { PrimaryDatacenter?: string } }>("/v1/agent/self", isMap);
    return { value: self.body.Config?.PrimaryDatacenter || undefined, problems: [] };
  } catch (error) {
    if (!(error instanceof ConsulSourceError) || error.code !== "E_CONSUL_ACL") throw error;
    const message = `the token lacks agent:read, so the primary datacenter is unknown: grant ${GRANT.agent}`;
    return { value: undefined, problems: [{ origin: "Consul: GET /v1/agent/self", message }] };
  }
}

/** The `proxy-defaults` entry, or `undefined` when there is none (404). */
async function readProxyDefaults(api: ConsulApi): Promise<ProxyDefaultsReadJson | undefined> {
  try {
    return (await api.get<ProxyDefaultsReadJson>("/v1/config/proxy-defaults/global", isMap)).body;
  } catch (error) {
    if (error instanceof ConsulSourceError && error.status === 404) return undefined;
    throw error;
  }
}

/** The `service-defaults` entries; a problem when ACLs hid some. */
async function readServiceDefaults(api: ConsulApi): Promise<Part<ServiceDefaultsReadJson[]>> {
  const answer = await api.get<ServiceDefaultsReadJson[]>("/v1/config/service-defaults", isList);
  if (!answer.filtered) return { value: answer.body, problems: [] };
  const message =
    "the token lacks service:read on some services, whose service-defaults (and the modes they set) are missing " +
    `from the plan: grant ${GRANT.service}`;
  return { value: answer.body, problems: [{ origin: "Consul: GET /v1/config/service-defaults", message }] };
}

/**
 * Reads what a live Consul runs: every datacenter of `/v1/catalog/datacenters`, the agent's
 * primary datacenter (`/v1/agent/self`), the trust domain (`/v1/connect/ca/roots`), in every
 * datacenter each service's instances with their nodes and checks (`/v1/catalog/services?dc=`,
 * then `/v1/health/service/<name>?dc=`), and the `proxy-defaults` (404: none) and
 * `service-defaults` entries, which Consul replicates to every datacenter; at most 8 requests at
 * a time. Then {@link catalogMeshFragment}. An answer filtered by ACLs, and a token without
 * `agent:read`, become problems naming the rights to grant. Gateway health is in the fragment's
 * `gatewayHealth`; `gatewayHealthProblems` judges it, on the merged mesh.
 * @param options - Address, token, CA file and time-out; each defaults as Consul's CLI does. Default: `{}`.
 * @throws ConsulSourceError with a stable code when the agent cannot be read.
 */
export async function readLiveConsul(options: LiveConsulOptions = {}): Promise<MeshFragment> {
  const env = consulEnvironment(options.env ?? process.env);
  const base = baseUrl(options.address || env.address || "http://127.0.0.1:8500", env.ssl);
  const caFile = options.caFile || env.caFile;
  const ca = caFile ? readFile(caFile, "CA certificate file") : undefined;
  const api = new ConsulApi(base, tokenOf(options, env), ca, options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  try {
    const datacenters = (await api.get<string[]>("/v1/catalog/datacenters", isList)).body;
    const [primary, roots, perDatacenter, proxyDefaults, serviceDefaults] = await Promise.all([
      readPrimaryDatacenter(api),
      api.get<{ TrustDomain?: string }>("/v1/connect/ca/roots", isMap),
      Promise.all(datacenters.map((datacenter) => readDatacenter(api, datacenter))),
      readProxyDefaults(api),
      readServiceDefaults(api),
    ]);
    const fragment = catalogMeshFragment({
      datacenters,
      primaryDatacenter: primary.value,
      trustDomain: roots.body.TrustDomain || undefined,
      perDatacenter: perDatacenter.map((part, i) => ({ datacenter: datacenters[i], healthEntries: part.value })),
      proxyDefaults,
      serviceDefaults: serviceDefaults.value,
    });
    const problems = [primary, ...perDatacenter, serviceDefaults].flatMap((part) => part.problems);
    return { ...fragment, problems: [...problems, ...(fragment.problems ?? [])] };
  } finally {
    api.close();
  }
}
