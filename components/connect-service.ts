/**
 * `ConnectService`: registers a connect service — a `connect-proxy` with its upstreams, or a
 * service with an inline `connect { sidecar_service { … } }` — with its datacenter's Consul
 * agent. `@pulumi/consul` cannot register a `Kind` or a `Proxy`, so the registration goes
 * through a Pulumi dynamic provider over the agent HTTP API (`AgentServiceRegistration`),
 * with the body `mesh/`'s `toServiceRegistration` renders.
 */
import * as pulumi from "@pulumi/pulumi";
import { toServiceRegistration, type MeshService, type MeshProblem } from "../mesh";
import { AgentServiceRegistration } from "./dynamic/agent-service-registration";
import { serviceProblems, throwIfProblems } from "./plans/arg-problems";
import type { ConsulDatacenter } from "./consul-datacenter";

/** Arguments of {@link ConnectService}. */
export interface ConnectServiceArgs {
  /** The service, as the model declares it (plain: it decides the registration). */
  service: MeshService;
  /**
   * The service's datacenter (a `Datacenter` or an `ExistingDatacenter`): its agent's address, token and CA.
   * Default: none; then `agentAddress` is required.
   */
  datacenter?: ConsulDatacenter;
  /**
   * The HTTP address of the agent that registers the service, as the Pulumi program reaches it (services
   * are registered with an agent, as `consul services register` does). Default: `datacenter.httpAddress`.
   */
  agentAddress?: pulumi.Input<string>;
  /** ACL token with `service:write` on the service. Default: `datacenter.token`, else none. */
  token?: pulumi.Input<string>;
  /** PEM CA certificate(s) that verify an `https` agent. Default: `datacenter.caPem`, else the system's roots. */
  caPem?: pulumi.Input<string>;
}

/** A connect service registered with its datacenter's agent. */
export class ConnectService extends pulumi.ComponentResource {
  /** The registration body sent to `PUT /v1/agent/service/register`. */
  readonly registrationBody: Record<string, unknown>;
  /** The service ID (`id`, else `name`). */
  readonly serviceId: string;
  /** The dynamic resource doing the registration. */
  readonly registration: AgentServiceRegistration;

  constructor(name: string, args: ConnectServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems: MeshProblem[] = serviceProblems(args.service, "args.service");
    if (args.datacenter && args.service && args.datacenter.name !== args.service.datacenter) {
      problems.push({
        path: "args.service.datacenter",
        message:
          `${JSON.stringify(args.service.datacenter)} does not match the ` +
          `datacenter given (${JSON.stringify(args.datacenter.name)})`,
      });
    }
    if (!args.datacenter && args.agentAddress === undefined) {
      problems.push({
        path: "args.agentAddress",
        message: "give the agent address, or the datacenter whose agent registers the service",
      });
    }
    throwIfProblems(problems, `ConnectService ${JSON.stringify(name)} arguments`);

    super("consul-mesh:index:ConnectService", name, {}, opts);
    this.registrationBody = toServiceRegistration(args.service) as unknown as Record<string, unknown>;
    this.serviceId = args.service.id ?? args.service.name;
    const dependsOn = args.datacenter ? args.datacenter.servers : [];
    this.registration = new AgentServiceRegistration(
      `${name}-registration`,
      {
        address: args.agentAddress ?? (args.datacenter as ConsulDatacenter).httpAddress,
        token: args.token ?? args.datacenter?.token,
        caPem: args.caPem ?? args.datacenter?.caPem,
        serviceId: this.serviceId,
        registration: this.registrationBody,
      },
      { parent: this, dependsOn, deletedWith: opts?.deletedWith },
    );
    // With the datacenter's own agent and token, a missing right is known at preview.
    const own = args.datacenter && args.agentAddress === undefined && args.token === undefined;
    const names = [args.service.name];
    if (args.service.connect?.sidecarService) names.push(`${args.service.name}-sidecar-proxy`);
    const rightsChecked = own
      ? args.datacenter?.checkRights?.(
          `ConnectService ${JSON.stringify(name)}`,
          names.map((segment) => ({ resource: "service", segment, access: "write" as const })),
        )
      : undefined;
    this.registerOutputs({ serviceId: this.serviceId, registration: this.registrationBody, rightsChecked });
  }
}
