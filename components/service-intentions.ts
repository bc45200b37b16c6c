/**
 * `ServiceIntentions`: the `service-intentions` config entry of one destination service: which
 * sources may connect to it. With ACLs on and `default_policy = deny`, nothing crosses the mesh
 * without one.
 */
import * as consul from "@pulumi/consul";
import * as pulumi from "@pulumi/pulumi";
import type { MeshProblem } from "../mesh";
import { throwIfProblems } from "./plans/arg-problems";

/** One source of an intention. */
export interface IntentionSource {
  /** The source service's name, or `*` for every service. */
  name: string;
  /** Whether the source may connect. */
  action: "allow" | "deny";
}

/** Arguments of {@link ServiceIntentions}. */
export interface ServiceIntentionsArgs {
  /** The destination service. */
  destination: string;
  /** The sources, each once. */
  sources: IntentionSource[];
}

const SERVICE_NAME = /^(\*|[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)$/;

/** The `service-intentions` entry of one destination. */
export class ServiceIntentions extends pulumi.ComponentResource {
  /** The sources as written, sorted by name. */
  readonly sources: IntentionSource[];
  /** The `consul.ConfigEntryServiceIntentions`. */
  readonly configEntry: consul.ConfigEntryServiceIntentions;

  constructor(name: string, args: ServiceIntentionsArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems: MeshProblem[] = [];
    if (typeof args.destination !== "string" || !SERVICE_NAME.test(args.destination) || args.destination === "*")
      problems.push({ path: "args.destination", message: `${JSON.stringify(args.destination)} is not a service name` });
    const seen = new Set<string>();
    (Array.isArray(args.sources) ? args.sources : []).forEach((source, i) => {
      if (typeof source?.name !== "string" || !SERVICE_NAME.test(source.name))
        problems.push({
          path: `args.sources[${i}].name`,
          message: `${JSON.stringify(source?.name)} is not a service name or "*"`,
        });
      else if (seen.has(source.name))
        problems.push({ path: `args.sources[${i}].name`, message: `${JSON.stringify(source.name)} is listed twice` });
      seen.add(source?.name);
      if (source?.action !== "allow" && source?.action !== "deny")
        problems.push({
          path: `args.sources[${i}].action`,
          message: `${JSON.stringify(source?.action)} is not "allow" or "deny"`,
        });
    });
    if (!Array.isArray(args.sources) || args.sources.length === 0)
      problems.push({ path: "args.sources", message: "list at least one source" });
    throwIfProblems(problems, `ServiceIntentions ${JSON.stringify(name)} arguments`);

    super("consul-mesh:index:ServiceIntentions", name, {}, opts);
    this.sources = [...args.sources]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((s) => ({ name: s.name, action: s.action }));
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
