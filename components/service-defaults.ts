/**
 * `ServiceDefaults`: the `service-defaults` config entry of one service, the level of mesh
 * gateway mode precedence above `proxy-defaults`: "Enabling Gateways Per-Service".
 */
import * as consul from "@pulumi/consul";
import * as pulumi from "@pulumi/pulumi";
import type { MeshGatewayConfig, ServiceDefaultsEntry } from "../mesh";
import { configEntryProblems, throwIfProblems } from "./plans/arg-problems";
import { configEntryJson } from "./plans/config-entry-json";

/** Arguments of {@link ServiceDefaults}. */
export interface ServiceDefaultsArgs {
  /** The service these defaults apply to (required). */
  service: string;
  /** Protocol (`tcp`, `http`, `http2`, `grpc`). Default: not set (Consul's `tcp`). */
  protocol?: string;
  /** Mesh gateway mode of the service's proxies. Default: not set (`""`). */
  meshGateway?: MeshGatewayConfig;
  /** Provider of the datacenter to write to (the primary; entries replicate). Default: the default Consul provider. */
  provider?: consul.Provider;
}

/** The `service-defaults` config entry of one service. */
export class ServiceDefaults extends pulumi.ComponentResource {
  /** The entry as the model declares it. */
  readonly entry: ServiceDefaultsEntry;
  /** The `configJson` written (without `Kind` and `Name`). */
  readonly configJson: string;
  /** The `consul.ConfigEntry`. */
  readonly configEntry: consul.ConfigEntry;

  constructor(name: string, args: ServiceDefaultsArgs, opts?: pulumi.ComponentResourceOptions) {
    const entry: ServiceDefaultsEntry = { kind: "service-defaults", name: args.service };
    if (args.protocol !== undefined) entry.protocol = args.protocol;
    if (args.meshGateway !== undefined) entry.meshGateway = args.meshGateway;
    const problems = configEntryProblems(entry, "args").map((p) =>
      p.path === "args.name" ? { path: "args.service", message: p.message } : p,
    );
    throwIfProblems(problems, `ServiceDefaults ${JSON.stringify(name)} arguments`);

    super("consul-mesh:index:ServiceDefaults", name, {}, opts);
    this.entry = entry;
    this.configJson = configEntryJson(entry);
    this.configEntry = new consul.ConfigEntry(
      `${name}-entry`,
      { kind: "service-defaults", name: entry.name, configJson: this.configJson },
      { parent: this, provider: args.provider, deletedWith: opts?.deletedWith },
    );
    this.registerOutputs({ configJson: this.configJson });
  }
}
