/**
 * A Pulumi dynamic resource that registers one service with a Consul agent over its HTTP
 * API. `@pulumi/consul` cannot register a service with a `Kind` or a `Proxy` (connect
 * proxies, sidecars with upstreams, mesh gateways); this provider can:
 *
 * - create: `PUT /v1/agent/service/register` with the registration body;
 * - update: the same call with the new body (the agent replaces the definition);
 * - delete: `PUT /v1/agent/service/deregister/<id>`;
 * - diff: compares the registration as deterministic JSON; a new service ID or a new agent
 *   replaces the resource (register the new one, then deregister the old one).
 *
 * Calls are repeated for up to a minute after transient failures (no answer, HTTP 5xx, `ACL
 * not found`), since the servers may have been created moments before.
 */
import * as pulumi from "@pulumi/pulumi";
import { deregisterService, registerService, type AgentConnection } from "./consul-agent-client";
import { sortKeys } from "../mesh/config-entry";

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
}

/** How long agent calls are retried by default: servers just created may still be electing a leader, joining the WAN or replicating tokens. */
export const DEFAULT_AGENT_RETRY_MS = 60_000;

/** The connection to the agent a state describes. */
function connectionOf(state: AgentServiceRegistrationState): AgentConnection {
  return {
    address: state.address,
    token: state.token || undefined,
    caPem: state.caPem || undefined,
    retryForMs: state.retryForMs ?? DEFAULT_AGENT_RETRY_MS,
  };
}

/** The provider: real create/update/delete/diff over the agent HTTP API. */
export const agentServiceProvider = {
  /** Compares old and new state; a new ID or agent means a new registration elsewhere. */
  async diff(_id: string, olds: AgentServiceRegistrationState, news: AgentServiceRegistrationState) {
    const replaces: string[] = [];
    if (olds.serviceId !== news.serviceId) replaces.push("serviceId");
    if (olds.address !== news.address) replaces.push("address");
    const changed =
      replaces.length > 0 ||
      JSON.stringify(sortKeys(olds.registration)) !== JSON.stringify(sortKeys(news.registration)) ||
      (olds.token ?? "") !== (news.token ?? "") ||
      (olds.caPem ?? "") !== (news.caPem ?? "");
    return { changes: changed, replaces, deleteBeforeReplace: false };
  },

  /** Registers the service; its ID becomes the resource ID. */
  async create(inputs: AgentServiceRegistrationState) {
    await registerService(connectionOf(inputs), inputs.registration);
    return { id: inputs.serviceId, outs: inputs };
  },

  /** Re-registers with the new definition; the agent replaces the old one in place. */
  async update(_id: string, _olds: AgentServiceRegistrationState, news: AgentServiceRegistrationState) {
    await registerService(connectionOf(news), news.registration);
    return { outs: news };
  },

  /** Deregisters the service (a service already gone counts as deleted). */
  async delete(id: string, props: AgentServiceRegistrationState) {
    await deregisterService(connectionOf(props), id);
  },
};

/** Arguments of {@link AgentServiceRegistration}. */
export interface AgentServiceRegistrationArgs {
  /** Agent HTTP address the Pulumi program can reach, e.g. `http://127.0.0.1:8500`. */
  address: pulumi.Input<string>;
  /** ACL token; stored as a secret. Default: none (anonymous). */
  token?: pulumi.Input<string>;
  /** PEM CA bundle for an `https` agent. Default: Node's CAs. */
  caPem?: pulumi.Input<string>;
  /** The service ID the registration creates (`ID`, or `Name` when no ID is given). */
  serviceId: pulumi.Input<string>;
  /** The JSON body of `PUT /v1/agent/service/register` (e.g. from `toServiceRegistration`). */
  registration: pulumi.Input<Record<string, unknown>>;
}

/** One service registered with a Consul agent through {@link agentServiceProvider}. */
export class AgentServiceRegistration extends pulumi.dynamic.Resource {
  /** The registered service ID. */
  declare readonly serviceId: pulumi.Output<string>;
  /** The registration body as sent. */
  declare readonly registration: pulumi.Output<Record<string, unknown>>;
  /** The agent address. */
  declare readonly address: pulumi.Output<string>;

  constructor(name: string, args: AgentServiceRegistrationArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      agentServiceProvider,
      name,
      {
        address: args.address,
        token: args.token === undefined ? undefined : pulumi.secret(args.token),
        caPem: args.caPem,
        serviceId: args.serviceId,
        registration: args.registration,
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "token"] },
      undefined,
      "AgentServiceRegistration",
    );
  }
}
