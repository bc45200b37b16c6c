/**
 * What `ProxyDefaults` and `ServiceDefaults` share: one `consul.ConfigEntry` written from an entry
 * of the mesh model, with the `configJson` Consul reads back (`configEntryJson`), so that the next
 * preview shows no change.
 */
import * as consul from "@pulumi/consul";
import * as pulumi from "@pulumi/pulumi";
import type { ProxyDefaultsEntry, ServiceDefaultsEntry } from "../mesh";
import { configEntryJson } from "./plans/config-entry-json";

/** A component holding one config entry of the mesh model. */
export abstract class ConfigEntryComponent<E extends ProxyDefaultsEntry | ServiceDefaultsEntry>
  extends pulumi.ComponentResource
{
  /** The entry as the model declares it. */
  readonly entry: E;
  /** The `configJson` written (without `Kind` and `Name`). */
  readonly configJson: string;
  /** The `consul.ConfigEntry`. */
  readonly configEntry: consul.ConfigEntry;

  /**
   * @param type - The component's type token.
   * @param name - The component's name; the entry's resource is `<name>-entry`.
   * @param entry - The entry, already validated.
   * @param opts - The component's options: the Consul provider of the datacenter to write to (`provider`, or
   * among `providers`; default: the default Consul provider), and a `deletedWith` that applies to the entry as well.
   */
  protected constructor(type: string, name: string, entry: E, opts?: pulumi.ComponentResourceOptions) {
    super(type, name, {}, opts);
    this.entry = entry;
    this.configJson = configEntryJson(entry);
    this.configEntry = new consul.ConfigEntry(
      `${name}-entry`,
      { kind: entry.kind, name: entry.name, configJson: this.configJson },
      { parent: this, deletedWith: opts?.deletedWith },
    );
    this.registerOutputs({ configJson: this.configJson });
  }
}
