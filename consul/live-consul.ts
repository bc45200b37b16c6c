/**
 * What a live Consul really runs, read from one agent's HTTP API for every datacenter of its WAN
 * federation, as a `MeshFragment` (`mesh/read` makes sense of the answers): the source of
 * `consul-mesh plan --consul` and of `ExistingDatacenter.liveRoutePlan`. Address, token and CA
 * certificate are taken as Consul's own CLI takes them (`CONSUL_HTTP_ADDR`, `CONSUL_HTTP_SSL`,
 * `CONSUL_HTTP_TOKEN`, `CONSUL_HTTP_TOKEN_FILE`, `CONSUL_CACERT`). The token travels only in the
 * `X-Consul-Token` header, never in a message.
 */
import type { MeshFragment, SourceProblem } from "../mesh/model/mesh-fragment";
import {
  catalogMeshFragment,
  type HealthEntryJson,
  type ProxyDefaultsReadJson,
  type ServiceDefaultsReadJson,
} from "../mesh/read/catalog-mesh";
import { ConsulClient, DEFAULT_REQUEST_TIMEOUT_MS } from "./client";
import { ConsulError } from "./errors";
import { readConsulSettings } from "./settings";

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
  /** The same as text, which wins over {@link LiveConsulOptions.caFile}. Default: none. */
  ca?: string;
  /** The environment the `CONSUL_*` variables are read from. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Time limit of each request, in ms. Default: {@link DEFAULT_REQUEST_TIMEOUT_MS}. */
  timeoutMs?: number;
}

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

/**
 * `GET` a JSON resource whose body must pass `ok`.
 * @throws ConsulError, `E_CONSUL_BAD_RESPONSE` for an answer that is not what Consul gives.
 */
async function read<T>(
  consul: ConsulClient,
  path: string,
  ok: (body: unknown) => boolean,
  query: Record<string, string> = {},
): Promise<Answer<T>> {
  const answer = await consul.get<unknown>(path, query);
  if (ok(answer.body)) return { body: answer.body as T, filtered: answer.filteredByAcls };
  const shown = JSON.stringify(answer.body).slice(0, 100);
  throw new ConsulError(
    "E_CONSUL_BAD_RESPONSE",
    `GET ${consul.address}${path}: not the answer Consul gives (${shown})`,
  );
}

/** Whether `error` is Consul refusing the token (HTTP 401 or 403). */
function denied(error: unknown): boolean {
  return error instanceof ConsulError && (error.status === 401 || error.status === 403);
}

const isList = (body: unknown) => Array.isArray(body);
const isMap = (body: unknown) => typeof body === "object" && body !== null && !Array.isArray(body);

/** One datacenter's services, each with its instances, nodes and checks; what ACLs hid becomes a problem. */
async function readDatacenter(consul: ConsulClient, datacenter: string): Promise<Part<HealthEntryJson[][]>> {
  const problems: SourceProblem[] = [];
  const query = { dc: datacenter };
  const services = await read<Record<string, string[]>>(consul, "/v1/catalog/services", isMap, query);
  if (services.filtered) {
    problems.push({
      origin: `Consul ${datacenter}: GET /v1/catalog/services`,
      message: `the token lacks service:read on some services, which are missing from the plan: grant ${GRANT.service}`,
    });
  }
  const names = Object.keys(services.body);
  const answers = await Promise.all(
    names.map((name) =>
      read<HealthEntryJson[]>(consul, `/v1/health/service/${encodeURIComponent(name)}`, isList, query),
    ),
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

/**
 * `Config.PrimaryDatacenter` of the agent and whether it federates through the mesh gateways
 * (`DebugConfig.ConnectMeshGatewayWANFederationEnabled`), or a problem when the token lacks `agent:read`.
 */
async function readAgentSelf(
  consul: ConsulClient,
): Promise<Part<{ primary: string | undefined; throughGateways: boolean }>> {
  try {
    const self = await read<{
      Config?: { PrimaryDatacenter?: string };
      DebugConfig?: { ConnectMeshGatewayWANFederationEnabled?: boolean };
    }>(consul, "/v1/agent/self", isMap);
    const primary = self.body.Config?.PrimaryDatacenter || undefined;
    const throughGateways = self.body.DebugConfig?.ConnectMeshGatewayWANFederationEnabled === true;
    return { value: { primary, throughGateways }, problems: [] };
  } catch (error) {
    if (!denied(error)) throw error;
    const message = `the token lacks agent:read, so the primary datacenter is unknown: grant ${GRANT.agent}`;
    return {
      value: { primary: undefined, throughGateways: false },
      problems: [{ origin: "Consul: GET /v1/agent/self", message }],
    };
  }
}

/** The `proxy-defaults` entry, or `undefined` when there is none (404). */
async function readProxyDefaults(consul: ConsulClient): Promise<ProxyDefaultsReadJson | undefined> {
  try {
    return (await read<ProxyDefaultsReadJson>(consul, "/v1/config/proxy-defaults/global", isMap)).body;
  } catch (error) {
    if (error instanceof ConsulError && error.status === 404) return undefined;
    throw error;
  }
}

/** The `service-defaults` entries; a problem when ACLs hid some. */
async function readServiceDefaults(consul: ConsulClient): Promise<Part<ServiceDefaultsReadJson[]>> {
  const answer = await read<ServiceDefaultsReadJson[]>(consul, "/v1/config/service-defaults", isList);
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
 * @throws ConsulError with a stable code when the agent cannot be read.
 */
export async function readLiveConsul(options: LiveConsulOptions = {}): Promise<MeshFragment> {
  const settings = readConsulSettings(options.env ?? process.env, options);
  const consul = new ConsulClient({
    ...settings,
    ca: options.ca ?? settings.ca,
    requestTimeoutMs: options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    maxConnections: CONCURRENCY,
  });
  try {
    const datacenters = (await read<string[]>(consul, "/v1/catalog/datacenters", isList)).body;
    const [self, roots, perDatacenter, proxyDefaults, serviceDefaults] = await Promise.all([
      readAgentSelf(consul),
      read<{ TrustDomain?: string }>(consul, "/v1/connect/ca/roots", isMap),
      Promise.all(datacenters.map((datacenter) => readDatacenter(consul, datacenter))),
      readProxyDefaults(consul),
      readServiceDefaults(consul),
    ]);
    const fragment = catalogMeshFragment({
      datacenters,
      primaryDatacenter: self.value.primary,
      throughGateways: self.value.throughGateways,
      trustDomain: roots.body.TrustDomain || undefined,
      perDatacenter: perDatacenter.map((part, i) => ({ datacenter: datacenters[i], healthEntries: part.value })),
      proxyDefaults,
      serviceDefaults: serviceDefaults.value,
    });
    const problems = [self, ...perDatacenter, serviceDefaults].flatMap((part) => part.problems);
    return { ...fragment, problems: [...problems, ...(fragment.problems ?? [])] };
  } finally {
    consul.close();
  }
}
