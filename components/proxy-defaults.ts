/**
 * `ProxyDefaults`: the `proxy-defaults` config entry (name `global`), the lowest level of
 * mesh gateway mode precedence: "Enabling Gateways Globally".
 */
import type * as pulumi from "@pulumi/pulumi";
import type { MeshGatewayConfig, ProxyDefaultsEntry } from "../mesh";
import { configEntryProblems, throwIfProblems } from "./plans/arg-problems";
import { ConfigEntryComponent } from "./config-entry-component";

/** Arguments of {@link ProxyDefaults}. */
export interface ProxyDefaultsArgs {
  /** Entry name; Consul accepts only `"global"`. Default: `"global"`. */
  name?: string;
  /** Mesh gateway mode of every connect proxy. Default: not set (`""`). */
  meshGateway?: MeshGatewayConfig;
  /** Opaque proxy configuration (`Config`), passed through with sorted keys. Default: none. */
  config?: Record<string, unknown>;
}

/** The `proxy-defaults` config entry. */
export class ProxyDefaults extends ConfigEntryComponent<ProxyDefaultsEntry> {
  constructor(name: string, args: ProxyDefaultsArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    const entry: ProxyDefaultsEntry = { kind: "proxy-defaults", name: args.name ?? "global" };
    if (args.meshGateway !== undefined) entry.meshGateway = args.meshGateway;
    if (args.config !== undefined) entry.config = args.config;
    throwIfProblems(configEntryProblems(entry, "args"), `ProxyDefaults ${JSON.stringify(name)} arguments`);

    super("consul-mesh:index:ProxyDefaults", name, entry, opts);
  }
}
