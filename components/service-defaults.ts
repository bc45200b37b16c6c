/**
 * `ServiceDefaults`: the `service-defaults` config entry of one service, the level of mesh
 * gateway mode precedence above `proxy-defaults`: "Enabling Gateways Per-Service".
 */
import type * as pulumi from "@pulumi/pulumi";
import type { MeshGatewayConfig, ServiceDefaultsEntry } from "../mesh";
import { configEntryProblems, throwIfProblems } from "./plans/arg-problems";
import { ConfigEntryComponent } from "./config-entry-component";

/** Arguments of {@link ServiceDefaults}. */
export interface ServiceDefaultsArgs {
  /** The service these defaults apply to (required). */
  service: string;
  /** Protocol (`tcp`, `http`, `http2`, `grpc`). Default: not set (Consul's `tcp`). */
  protocol?: string;
  /** Mesh gateway mode of the service's proxies. Default: not set (`""`). */
  meshGateway?: MeshGatewayConfig;
}

/** The `service-defaults` config entry of one service. */
export class ServiceDefaults extends ConfigEntryComponent<ServiceDefaultsEntry> {
  constructor(name: string, args: ServiceDefaultsArgs, opts?: pulumi.ComponentResourceOptions) {
    const entry: ServiceDefaultsEntry = { kind: "service-defaults", name: args.service };
    if (args.protocol !== undefined) entry.protocol = args.protocol;
    if (args.meshGateway !== undefined) entry.meshGateway = args.meshGateway;
    const problems = configEntryProblems(entry, "args").map((p) =>
      p.path === "args.name" ? { path: "args.service", message: p.message } : p,
    );
    throwIfProblems(problems, `ServiceDefaults ${JSON.stringify(name)} arguments`);

    super("consul-mesh:index:ServiceDefaults", name, entry, opts);
  }
}
