/**
 * A small client for the parts of Consul's agent HTTP API that Pulumi cannot reach through
 * `@pulumi/consul`: registering services with a `Kind` and a `Proxy` (connect proxies,
 * sidecars with upstreams, mesh gateways). Plain Node `http`/`https`, no Pulumi import, so
 * it is tested against a server that speaks Consul's contract. The dynamic provider that
 * registers services through it is here too (see {@link agentServiceProvider}).
 */
import * as http from "node:http";
import * as https from "node:https";
// Types only: erased when compiled, so the serialized provider references no other module.
import type { ConsulErrorCode } from "./errors";

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
  /** Time limit of one request, from start to last byte, in milliseconds. Default: `10000`. */
  timeoutMs?: number;
  /**
   * How long register and deregister calls are repeated after a transient failure (see
   * {@link isTransientFailure}), in milliseconds. Default: `0` (one attempt).
   */
  retryForMs?: number;
  /** First pause between attempts in milliseconds, doubled up to 5 s. Default: `1000`. */
  retryDelayMs?: number;
}

/**
 * A failed call to the agent API: the request, the status and Consul's error text, with a code
 * of `ConsulError`'s vocabulary (`consul/errors.ts`). Every field is set in the constructor's
 * body: Pulumi serializes the dynamic provider's copy of this class as a plain function calling
 * `Error` (which sets no `message`) and drops class fields.
 */
export class ConsulApiError extends Error {
  /**
   * Stable error code: `E_CONSUL_HTTP_STATUS` (an answer other than 2xx), `E_CONSUL_TIMEOUT` (no
   * complete answer in time) or `E_CONSUL_UNREACHABLE` (no answer).
   */
  declare readonly code: Extract<ConsulErrorCode, "E_CONSUL_HTTP_STATUS" | "E_CONSUL_TIMEOUT" | "E_CONSUL_UNREACHABLE">;
  constructor(
    /** HTTP method. */
    readonly method: string,
    /** Request path. */
    readonly path: string,
    /** HTTP status, or `0` when no response arrived. */
    readonly status: number,
    /** Response body (Consul's error text) or the transport error's message. */
    readonly body: string,
    /** Whether the time limit ran out (for `status` 0). Default: `false`. */
    timedOut = false,
  ) {
    const message =
      `Consul ${method} ${path} ` + `failed${status ? ` with HTTP ${status}` : ""}: ${body.trim() || "(empty body)"}`;
    super(message);
    this.message = message;
    this.name = "ConsulApiError";
    (this as { code: string }).code = status
      ? "E_CONSUL_HTTP_STATUS"
      : timedOut
        ? "E_CONSUL_TIMEOUT"
        : "E_CONSUL_UNREACHABLE";
  }
}

/** A response of the agent API. */
interface AgentResponse {
  status: number;
  body: string;
}

/**
 * Parses `CONSUL_HTTP_ADDR`-style addresses into a base URL: the serialized provider's copy of
 * `consulBaseUrl` (`consul/settings.ts`), which a test holds it to.
 */
export function agentBaseUrl(address: string): URL {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`;
  const url = new URL(withScheme);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    // Without credentials, as `withoutCredentials` (consul/errors.ts) shows an address.
    const shown = address.replace(
      /^([a-z][a-z0-9+.-]*:\/\/)?[^@/]*@/i,
      (_m, scheme?: string) => `${scheme ?? ""}[redacted]@`,
    );
    throw new Error(`agent address must use http or https, got ${JSON.stringify(shown)}`);
  }
  return url;
}

/** Sends one request to the agent; resolves with any status, rejects only on transport errors. */
function send(conn: AgentConnection, method: string, path: string, body?: unknown): Promise<AgentResponse> {
  const base = agentBaseUrl(conn.address);
  const url = new URL(`${base.pathname.replace(/\/$/, "")}${path}`, base);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string> = { Accept: "application/json" };
  if (payload) {
    headers["Content-Type"] = "application/json";
    headers["Content-Length"] = String(payload.length);
  }
  if (conn.token) headers["X-Consul-Token"] = conn.token;
  const timeoutMs = conn.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = { method, headers };
    if (url.protocol === "https:" && conn.caPem) options.ca = conn.caPem;
    let timedOut = false;
    const req = (url.protocol === "https:" ? https : http).request(url, options);
    // A wall-clock limit: an agent that trickles its answer is no better than a silent one.
    const timer = setTimeout(() => {
      timedOut = true;
      req.destroy(new Error(`no complete response within ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(new ConsulApiError(method, path, 0, err.message, timedOut));
    };
    req.on("response", (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
      });
      res.on("error", fail);
    });
    req.on("error", fail);
    req.end(payload);
  });
}

/**
 * Whether a failed call may succeed if repeated: no response (agent not listening yet,
 * restarting, time-out), an HTTP 5xx (e.g. `No cluster leader`), or `403 ACL not found`
 * (a token created in the primary datacenter and not yet replicated here). A `403
 * Permission denied` or a `400` is final.
 * @param error - The failure.
 */
export function isTransientFailure(error: ConsulApiError): boolean {
  return error.status === 0 || error.status >= 500 || (error.status === 403 && /ACL not found/i.test(error.body));
}

/** Runs `call`, repeating it after transient failures until `conn.retryForMs` has passed. */
async function withRetries(conn: AgentConnection, call: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + (conn.retryForMs ?? 0);
  let delay = conn.retryDelayMs ?? 1000;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ConsulApiError) || !isTransientFailure(error) || Date.now() + delay > deadline)
        throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 5000);
    }
  }
}

/** Fails unless the status is 2xx. */
function expectOk(method: string, path: string, res: AgentResponse): void {
  if (res.status < 200 || res.status > 299) throw new ConsulApiError(method, path, res.status, res.body);
}

/**
 * Registers (or re-registers, replacing the definition) a service with the agent:
 * `PUT /v1/agent/service/register` with the JSON body Consul accepts (PascalCase fields).
 * Transient failures are retried for `conn.retryForMs`.
 */
export async function registerService(conn: AgentConnection, registration: object): Promise<void> {
  const path = "/v1/agent/service/register";
  await withRetries(conn, async () => expectOk("PUT", path, await send(conn, "PUT", path, registration)));
}

/**
 * Deregisters a service (and the sidecar Consul registered with it):
 * `PUT /v1/agent/service/deregister/<id>`. A service the agent no longer knows counts as
 * deregistered, so deleting twice is safe. Transient failures are retried for `conn.retryForMs`.
 */
export async function deregisterService(conn: AgentConnection, serviceId: string): Promise<void> {
  const path = `/v1/agent/service/deregister/${encodeURIComponent(serviceId)}`;
  await withRetries(conn, async () => {
    const res = await send(conn, "PUT", path);
    if (res.status !== 404) expectOk("PUT", path, res);
  });
}

/**
 * Reads one service as the agent holds it (`GET /v1/agent/service/<id>`), or `undefined`
 * when the agent does not know it.
 */
export async function readService(
  conn: AgentConnection,
  serviceId: string,
): Promise<Record<string, unknown> | undefined> {
  const path = `/v1/agent/service/${encodeURIComponent(serviceId)}`;
  const res = await send(conn, "GET", path);
  if (res.status === 404) return undefined;
  expectOk("GET", path, res);
  return JSON.parse(res.body) as Record<string, unknown>;
}

/** The plain inputs (and outputs) of the dynamic resource, as the provider sees them. */
export interface AgentServiceRegistrationState {
  /** Agent HTTP address (`http://host:port`). */
  address: string;
  /** ACL token for `X-Consul-Token`. Default: none. */
  token?: string;
  /** PEM CA bundle for an `https` agent. Default: Node's CAs. */
  caPem?: string;
  /** The service ID the registration creates (the resource's ID). */
  serviceId: string;
  /** The JSON body of `PUT /v1/agent/service/register`. */
  registration: Record<string, unknown>;
  /**
   * How long create, update and delete repeat transient failures (agent not answering yet,
   * HTTP 5xx, a token not yet replicated), in ms. Default: {@link DEFAULT_AGENT_RETRY_MS}.
   */
  retryForMs?: number;
  /** The serialized provider itself, which Pulumi keeps with each resource's state. */
  __provider?: string;
  /**
   * Output only: what the registration decides of each service it creates (the service, then its
   * inline sidecar; see `fingerprint`), as the agent held it right after registering.
   */
  registeredDefinition?: string;
  /**
   * Output only: the same, as last read (`pulumi refresh`); `"missing"` for a service the agent
   * no longer has. It differs from {@link registeredDefinition} when someone changed the registration
   * by hand: the next `pulumi up` registers it again.
   */
  liveDefinition?: string;
}

/**
 * The default retry budget; a module-local name, since TypeScript reads an exported `const` through `exports`
 * (which would capture this module).
 */
const AGENT_RETRY_MS = 60_000;
/**
 * How long agent calls are retried by default: servers just created may still be electing a leader, joining
 * the WAN or replicating tokens.
 */
export const DEFAULT_AGENT_RETRY_MS = AGENT_RETRY_MS;

/**
 * How long a delete keeps trying an agent that does not answer at all. Agent registrations live in
 * the agent's own state, so an agent that is gone (its container removed, say) took them with it:
 * after this the registration counts as deleted, and `pulumi destroy` goes on.
 */
const AGENT_GONE_AFTER_MS = 10_000;

/** The connection to the agent a state describes. */
function connectionOf(state: AgentServiceRegistrationState): AgentConnection {
  return {
    address: state.address,
    token: state.token || undefined,
    caPem: state.caPem || undefined,
    retryForMs: state.retryForMs ?? AGENT_RETRY_MS,
  };
}

/** The IDs of the services a registration creates: its own, and its inline sidecar's. */
function registeredIds(serviceId: string, registration: Record<string, unknown>): string[] {
  const connect = registration.Connect as { SidecarService?: { ID?: string } } | undefined;
  if (!connect?.SidecarService) return [serviceId];
  return [serviceId, connect.SidecarService.ID ?? `${serviceId}-sidecar-proxy`];
}

/**
 * What of one agent service a registration decides, as canonical JSON: its kind, name, address, port, tags,
 * meta, its own tagged LAN and WAN addresses, and a proxy's destination and upstreams. Not what
 * the agent fills in on its own later (the mesh gateway mode resolved from central configuration,
 * `lan_ipv4` and the like), nor `ContentHash`, which changes with those: so a change by hand shows,
 * and Consul's own bookkeeping does not.
 */
function fingerprint(service: Record<string, unknown>): string {
  const tagged = (service.TaggedAddresses ?? {}) as Record<string, unknown>;
  const proxy = (service.Proxy ?? {}) as { DestinationServiceName?: string; Upstreams?: Record<string, unknown>[] };
  const decided = {
    Kind: service.Kind ?? "",
    Service: service.Service,
    Address: service.Address ?? "",
    Port: service.Port,
    Tags: service.Tags ?? [],
    Meta: service.Meta ?? {},
    Lan: tagged.lan ?? null,
    Wan: tagged.wan ?? null,
    Destination: proxy.DestinationServiceName ?? "",
    Upstreams: (proxy.Upstreams ?? []).map((u) => [
      u.DestinationType ?? "service",
      u.DestinationName,
      u.DestinationNamespace ?? "",
      u.Datacenter ?? "",
      u.LocalBindAddress ?? "",
      u.LocalBindPort,
    ]),
  };
  return canonicalJson(decided);
}

/**
 * The {@link fingerprint} of each service a registration creates, as a JSON list (`"missing"` for
 * one the agent does not have): readable in the state, so that a refresh shows what changed.
 */
async function fingerprints(conn: AgentConnection, serviceId: string, registration: Record<string, unknown>) {
  const prints: unknown[] = [];
  for (const id of registeredIds(serviceId, registration)) {
    const service = await readService(conn, id);
    prints.push(service === undefined ? "missing" : JSON.parse(fingerprint(service)));
  }
  return JSON.stringify(prints);
}

/** JSON with object keys sorted at every level, so that key order never counts as a change. */
function canonicalJson(value: unknown): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (v === null || typeof v !== "object") return v;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) out[key] = sorted((v as Record<string, unknown>)[key]);
    return out;
  };
  return JSON.stringify(sorted(value));
}

/**
 * The dynamic provider of `AgentServiceRegistration`: create/update/delete/diff over the agent
 * HTTP API. It is here, beside the calls it makes, because Pulumi serializes it with
 * everything it references: it must reference nothing from other modules of this package.
 */
export const agentServiceProvider = {
  /** Compares old and new state; a new ID or agent means a new registration elsewhere. */
  async diff(_id: string, olds: AgentServiceRegistrationState, news: AgentServiceRegistrationState) {
    const replaces: string[] = [];
    if (olds.serviceId !== news.serviceId) replaces.push("serviceId");
    if (olds.address !== news.address) replaces.push("address");
    const changed =
      replaces.length > 0 ||
      canonicalJson(olds.registration) !== canonicalJson(news.registration) ||
      (olds.token ?? "") !== (news.token ?? "") ||
      (olds.caPem ?? "") !== (news.caPem ?? "") ||
      // Drift that `read` found: the agent's definition is no longer the one registered.
      (olds.liveDefinition !== undefined && olds.liveDefinition !== olds.registeredDefinition) ||
      // A new version of this provider: an update stores it, so that refresh and delete run it.
      olds.__provider !== news.__provider;
    // Same service ID: the new registration may land on the very same agent (an address
    // written differently, a new host port), where deleting the old one afterwards would
    // remove the new one too. So delete first then; a new ID is registered first.
    return {
      changes: changed,
      replaces,
      deleteBeforeReplace: replaces.length > 0 && olds.serviceId === news.serviceId,
    };
  },

  /** Registers the service; its ID becomes the resource ID. */
  async create(inputs: AgentServiceRegistrationState) {
    const conn = connectionOf(inputs);
    await registerService(conn, inputs.registration);
    const definition = await fingerprints(conn, inputs.serviceId, inputs.registration);
    return { id: inputs.serviceId, outs: { ...inputs, registeredDefinition: definition, liveDefinition: definition } };
  },

  /**
   * Reads the registration back (`pulumi refresh`): gone when the agent no longer has the
   * service, drifted (a new {@link AgentServiceRegistrationState.liveDefinition}) when its definition changed.
   */
  async read(id: string, props: AgentServiceRegistrationState) {
    const conn = { ...connectionOf(props), retryForMs: 0 };
    const liveDefinition = await fingerprints(conn, id, props.registration);
    if ((JSON.parse(liveDefinition) as unknown[])[0] === "missing") return {};
    return { id, props: { ...props, liveDefinition } };
  },

  /** Re-registers with the new definition; the agent replaces the old one in place. */
  async update(_id: string, _olds: AgentServiceRegistrationState, news: AgentServiceRegistrationState) {
    const conn = connectionOf(news);
    await registerService(conn, news.registration);
    const definition = await fingerprints(conn, news.serviceId, news.registration);
    return { outs: { ...news, registeredDefinition: definition, liveDefinition: definition } };
  },

  /**
   * Deregisters the service. A service the agent no longer knows counts as deleted, and so does
   * one whose agent has not answered for {@link AGENT_GONE_AFTER_MS}.
   */
  async delete(id: string, props: AgentServiceRegistrationState) {
    const conn = connectionOf(props);
    try {
      await deregisterService({ ...conn, retryForMs: Math.min(conn.retryForMs ?? 0, AGENT_GONE_AFTER_MS) }, id);
    } catch (error) {
      // `status` 0: no answer at all (refused, unreachable, timed out). Checked by field, not by
      // class: the serialized provider has its own copy of ConsulApiError.
      if ((error as { status?: number }).status === 0) return;
      throw error;
    }
  },
};

/** The plain inputs (and outputs) of a token whose secret was drawn before Consul knew it. */
export interface PresetAclTokenState {
  /** Agent HTTP address (`https://host:port`) of a datacenter that writes the token (writes go to the primary). */
  address: string;
  /** A token that may write ACLs (the management token). */
  token: string;
  /** PEM CA bundle for an `https` agent. Default: Node's CAs. */
  caPem?: string;
  /**
   * The primary datacenter, where global tokens live: asked through `address` (`?dc=`), so that a
   * token written through a secondary is read back before replication has caught up. Default: the agent's own.
   */
  datacenter?: string;
  /** The secret, already in an agent's configuration. */
  secretId: string;
  /** The token's description. */
  description: string;
  /** Node identities (`node:write` on the node, `service:read`). Default: none. */
  nodeIdentities?: { nodeName: string; datacenter: string }[];
  /** Names of policies. Default: none. */
  policies?: string[];
  /** How long create and delete repeat transient failures, in ms. Default: {@link DEFAULT_AGENT_RETRY_MS}. */
  retryForMs?: number;
  /** Output only: the token's accessor ID (the resource's ID). */
  accessorId?: string;
}

/** The body of `PUT /v1/acl/token` for a state. */
function tokenBody(state: PresetAclTokenState): Record<string, unknown> {
  return {
    SecretID: state.secretId,
    Description: state.description,
    NodeIdentities: (state.nodeIdentities ?? []).map((n) => ({ NodeName: n.nodeName, Datacenter: n.datacenter })),
    Policies: (state.policies ?? []).map((name) => ({ Name: name })),
    Local: false,
  };
}

/** `?dc=<datacenter>` when the state names one. */
function dcQuery(state: PresetAclTokenState): string {
  return state.datacenter ? `?dc=${encodeURIComponent(state.datacenter)}` : "";
}

/**
 * The dynamic provider of `PresetAclToken`: an ACL token created with a secret drawn before (one
 * an agent's configuration already names, as `acl.tokens.agent`), which `@pulumi/consul`'s
 * `AclToken` cannot take. Any change replaces it: a new token is created before the old one is
 * deleted. Delete treats a token or an agent that is gone as deleted.
 */
export const presetAclTokenProvider = {
  /** Every input decides the token. */
  async diff(_id: string, olds: PresetAclTokenState, news: PresetAclTokenState) {
    const decided = (s: PresetAclTokenState) =>
      canonicalJson({ ...tokenBody(s), address: s.address, datacenter: s.datacenter ?? "" });
    const changed = decided(olds) !== decided(news);
    return { changes: changed || olds.token !== news.token, replaces: changed ? ["secretId"] : [] };
  },

  /** Creates the token; its accessor ID becomes the resource ID. */
  async create(inputs: PresetAclTokenState) {
    const conn = { address: inputs.address, token: inputs.token, caPem: inputs.caPem || undefined };
    const path = `/v1/acl/token${dcQuery(inputs)}`;
    let accessorId = "";
    await withRetries({ ...conn, retryForMs: inputs.retryForMs ?? AGENT_RETRY_MS }, async () => {
      const res = await send(conn, "PUT", path, tokenBody(inputs));
      expectOk("PUT", path, res);
      accessorId = (JSON.parse(res.body) as { AccessorID: string }).AccessorID;
    });
    return { id: accessorId, outs: { ...inputs, accessorId } };
  },

  /** Only the management token changed: nothing to do in Consul. */
  async update(_id: string, _olds: PresetAclTokenState, news: PresetAclTokenState) {
    return { outs: news };
  },

  /** A token Consul no longer has is gone from the state (`pulumi refresh`). */
  async read(id: string, props: PresetAclTokenState) {
    const conn = { address: props.address, token: props.token, caPem: props.caPem || undefined };
    const path = `/v1/acl/token/${encodeURIComponent(id)}${dcQuery(props)}`;
    const res = await send(conn, "GET", path);
    if (res.status === 404 || (res.status === 403 && /ACL not found|token does not exist/i.test(res.body))) return {};
    expectOk("GET", path, res);
    return { id, props };
  },

  /** Deletes the token; one already gone, or whose datacenter no longer answers, counts as deleted. */
  async delete(id: string, props: PresetAclTokenState) {
    const conn = { address: props.address, token: props.token, caPem: props.caPem || undefined };
    const path = `/v1/acl/token/${encodeURIComponent(id)}${dcQuery(props)}`;
    try {
      await withRetries(
        { ...conn, retryForMs: Math.min(props.retryForMs ?? AGENT_RETRY_MS, AGENT_GONE_AFTER_MS) },
        async () => {
          const res = await send(conn, "DELETE", path);
          if (res.status !== 404) expectOk("DELETE", path, res);
        },
      );
    } catch (error) {
      if ((error as { status?: number }).status === 0) return;
      throw error;
    }
  },
};

/** The plain inputs (and outputs) of a wait for a service's passing instances. */
export interface ServiceReadyState {
  /** HTTP address of an agent of the datacenter. */
  address: string;
  /** ACL token (`service:read` on the service, `node:read`). Default: none. */
  token?: string;
  /** PEM CA bundle for an `https` agent. Default: Node's CAs. */
  caPem?: string;
  /** The service whose passing instances are awaited. */
  service: string;
  /** How long to wait, in ms. Default: 120000. */
  timeoutMs?: number;
  /** The serialized provider itself, which Pulumi keeps with each resource's state. */
  __provider?: string;
  /** Output only: the passing instances found. */
  instances?: number;
}

/** Waits until `/v1/health/service/<service>?passing` lists an instance; the number listed. */
async function awaitPassing(state: ServiceReadyState): Promise<number> {
  const conn = { address: state.address, token: state.token || undefined, caPem: state.caPem || undefined };
  const path = `/v1/health/service/${encodeURIComponent(state.service)}?passing`;
  const deadline = Date.now() + (state.timeoutMs ?? 120_000);
  let last = "no answer yet";
  for (;;) {
    try {
      const res = await send(conn, "GET", path);
      if (res.status === 200) {
        const instances = (JSON.parse(res.body) as unknown[]).length;
        if (instances > 0) return instances;
        last = "no passing instance";
      } else last = `HTTP ${res.status}: ${res.body.trim()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline)
      throw new ConsulApiError(
        "GET",
        path,
        0,
        `${state.service} has no passing instance after ${state.timeoutMs ?? 120_000} ms (${last})`,
        true,
      );
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/**
 * The dynamic provider of `ServiceReady`: create (and update) wait until the service has a passing
 * instance, for what must not start before it (a peering token names the mesh gateways registered
 * when it is made). Nothing to delete.
 */
export const serviceReadyProvider = {
  /** A new service or agent waits again, as a new resource. */
  async diff(_id: string, olds: ServiceReadyState, news: ServiceReadyState) {
    const changed = olds.service !== news.service || olds.address !== news.address;
    return {
      changes: changed || (olds.token ?? "") !== (news.token ?? "") || olds.__provider !== news.__provider,
      replaces: changed ? ["service"] : [],
    };
  },

  /** Waits for a passing instance. */
  async create(inputs: ServiceReadyState) {
    return { id: inputs.service, outs: { ...inputs, instances: await awaitPassing(inputs) } };
  },

  /** Waits again. */
  async update(_id: string, _olds: ServiceReadyState, news: ServiceReadyState) {
    return { outs: { ...news, instances: await awaitPassing(news) } };
  },

  /** Nothing was created. */
  async delete() {},
};
