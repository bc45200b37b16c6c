/**
 * `ServiceIntentions`: the `service-intentions` config entry of one destination service: which
 * sources may connect to it. With ACLs on and `default_policy = deny`, nothing crosses the mesh
 * without one.
 */
import * as consul from "@pulumi/consul";
import * as pulumi from "@pulumi/pulumi";
import { intentionEntryProblems, type IntentionEntry, type IntentionSource } from "../mesh";
import { throwIfProblems } from "./plans/arg-problems";

export type { IntentionSource } from "../mesh";

/** Arguments of {@link ServiceIntentions}: the destination service, and its sources (each once; `*` for every service). */
export type ServiceIntentionsArgs = IntentionEntry;

/** The `service-intentions` entry of one destination. */
export class ServiceIntentions extends pulumi.ComponentResource {
  /** The sources as written, sorted by name. */
  readonly sources: IntentionSource[];
  /** The `consul.ConfigEntryServiceIntentions`. */
  readonly configEntry: consul.ConfigEntryServiceIntentions;

  constructor(name: string, args: ServiceIntentionsArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems = intentionEntryProblems(args, "args");
    throwIfProblems(problems, `ServiceIntentions ${JSON.stringify(name)} arguments`);

    super("consul-mesh:index:ServiceIntentions", name, {}, opts);
    this.sources = [...args.sources]
      .sort((a, b) => a.name.localeCompare(b.name) || (a.peer ?? "").localeCompare(b.peer ?? ""))
      .map((s) => ({ name: s.name, action: s.action, ...(s.peer ? { peer: s.peer } : {}) }));
    this.configEntry = new consul.ConfigEntryServiceIntentions(
      `${name}-entry`,
      {
        name: args.destination,
        // Consul computes the precedence (9 for a named source, 8 for `*`, in one namespace) and
        // reads it back: written as it will be read, so that a second preview shows no change.
        sources: this.sources.map((s) => ({ ...s, type: "consul", precedence: s.name === "*" ? 8 : 9 })),
      },
      { parent: this, deletedWith: opts?.deletedWith },
    );
    this.registerOutputs({ sources: this.sources });
  }
}
