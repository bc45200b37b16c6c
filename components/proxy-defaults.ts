/**
 * `ProxyDefaults`: the `proxy-defaults` config entry (name `global`), the lowest level of
 * mesh gateway mode precedence: "Enabling Gateways Globally".
 */
import * as consul from "@pulumi/consul";
import * as pulumi from "@pulumi/pulumi";
import type { MeshGatewayConfig, ProxyDefaultsEntry } from "../mesh";
import { configEntryProblems, throwIfProblems } from "./plans/arg-problems";
import { configEntryJson } from "./plans/config-entry-json";

/** Arguments of {@link ProxyDefaults}. */
export interface ProxyDefaultsArgs {
  /** Entry name; Consul accepts only `"global"`. Default: `"global"`. */
  name?: string;
  /** Mesh gateway mode of every connect proxy. Default: not set (`""`). */
  meshGateway?: MeshGatewayConfig;
  /** Opaque proxy configuration (`Config`), passed through with sorted keys. Default: none. */
  config?: Record<string, unknown>;
  /** Provider of the datacenter to write to (the primary; entries replicate). Default: the default Consul provider. */
  provider?: consul.Provider;
}

/** The `proxy-defaults` config entry. */
export class ProxyDefaults extends pulumi.ComponentResource {
  /** The entry as the model declares it. */
  readonly entry: ProxyDefaultsEntry;
  /** The `configJson` written (without `Kind` and `Name`). */
  readonly configJson: string;
  /** The `consul.ConfigEntry`. */
  readonly configEntry: consul.ConfigEntry;

  constructor(name: string, args: ProxyDefaultsArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    const entry: ProxyDefaultsEntry = { kind: "proxy-defaults", name: args.name ?? "global" };
    if (args.meshGateway !== undefined) entry.meshGateway = args.meshGateway;
    if (args.config !== undefined) entry.config = args.config;
    throwIfProblems(configEntryProblems(entry, "args"), `ProxyDefaults ${JSON.stringify(name)} arguments`);

    super("consul-mesh:index:ProxyDefaults", name, {}, opts);
    this.entry = entry;
    this.configJson = configEntryJson(entry);
    this.configEntry = new consul.ConfigEntry(
      `${name}-entry`,
      { kind: "proxy-defaults", name: entry.name, configJson: this.configJson },
      { parent: this, provider: args.provider, deletedWith: opts?.deletedWith },
    );
    this.registerOutputs({ configJson: this.configJson });
  }
}
