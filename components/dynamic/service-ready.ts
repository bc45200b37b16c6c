/**
 * A Pulumi dynamic resource that waits until a service has a passing instance in a datacenter
 * (`GET /v1/health/service/<service>?passing`), for resources that must not start before it: a
 * mesh gateway registers itself once its container runs, and a peering token made before that
 * would name no gateway.
 */
import * as pulumi from "@pulumi/pulumi";
import { serviceReadyProvider } from "../../consul/agent";

// Beside the client it calls, for the reason `agent-service-registration.ts` gives.
export { serviceReadyProvider, type ServiceReadyState } from "../../consul/agent";

/** Arguments of {@link ServiceReady}. */
export interface ServiceReadyArgs {
  /** HTTP address of an agent of the datacenter, as the Pulumi program reaches it. */
  address: pulumi.Input<string>;
  /** ACL token; stored as a secret. Default: none (anonymous). */
  token?: pulumi.Input<string>;
  /** PEM CA bundle for an `https` agent. Default: Node's CAs. */
  caPem?: pulumi.Input<string>;
  /** The service. */
  service: pulumi.Input<string>;
  /** How long to wait, in ms. Default: `120000`. */
  timeoutMs?: pulumi.Input<number>;
}

/** A wait for a service's first passing instance. */
export class ServiceReady extends pulumi.dynamic.Resource {
  /** The passing instances found. */
  declare readonly instances: pulumi.Output<number>;

  constructor(name: string, args: ServiceReadyArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      serviceReadyProvider,
      name,
      {
        address: args.address,
        token: args.token === undefined ? undefined : pulumi.secret(args.token),
        caPem: args.caPem,
        service: args.service,
        timeoutMs: args.timeoutMs,
        instances: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "token"] },
      undefined,
      "ServiceReady",
    );
  }
}
