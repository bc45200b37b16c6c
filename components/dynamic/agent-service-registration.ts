/**
 * A Pulumi dynamic resource that registers one service with a Consul agent over its HTTP
 * API. `@pulumi/consul` cannot register a service with a `Kind` or a `Proxy` (connect
 * proxies, sidecars with upstreams, mesh gateways); this provider can:
 *
 * - create: `PUT /v1/agent/service/register` with the registration body;
 * - update: the same call with the new body (the agent replaces the definition);
 * - delete: `PUT /v1/agent/service/deregister/<id>`;
 * - read (`pulumi refresh`): `GET /v1/agent/service/<id>` of the service and its inline sidecar;
 *   a service the agent no longer has is gone from the state (the next `up` registers it again),
 *   a definition changed by hand (address, port, kind, tags, meta, upstreams) is drift, which the
 *   next `up` repairs;
 * - diff: compares the registration as deterministic JSON; a new service ID or a new agent
 *   address replaces the resource (a new ID is registered before the old one is
 *   deregistered; the same ID is deregistered first, since the agent may be the same).
 *
 * Calls are repeated for up to a minute after transient failures (no answer, HTTP 5xx, `ACL
 * not found`), since the servers may have been created moments before.
 */
import * as pulumi from "@pulumi/pulumi";
import { agentServiceProvider } from "../../consul/agent";

// The provider lives beside the client it calls: Pulumi serializes it with everything it
// references, and a function imported from another module of this package would be
// serialized as `require("consul-mesh-gateway/dist/…")`, which the package's `exports` refuse
// once it is installed from npm.
export { agentServiceProvider, DEFAULT_AGENT_RETRY_MS, type AgentServiceRegistrationState } from "../../consul/agent";

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
  /** What the registration decides of the services it created, as the agent held them right after registering. */
  declare readonly registeredDefinition: pulumi.Output<string>;
  /** The same, as last read: differs from `registeredDefinition` after a change by hand. */
  declare readonly liveDefinition: pulumi.Output<string>;

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
        registeredDefinition: undefined,
        liveDefinition: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "token"] },
      undefined,
      "AgentServiceRegistration",
    );
  }
}
