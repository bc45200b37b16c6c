/**
 * UUIDs generated once, when the resource is created, and kept in the stack's state from then
 * on: the ACL initial management token when the user gives none (`GeneratedToken`, a Pulumi
 * secret), and the Connect trust domain `<uuid>.consul` when the mesh pins none
 * (`GeneratedTrustDomain`, not a secret: every SNI name carries it). Both are Pulumi dynamic
 * resources of one provider, so no extra provider package is needed; previews never change
 * them (no randomness in inputs), only `create` draws them.
 */
import * as pulumi from "@pulumi/pulumi";
import { trustDomainOfClusterId } from "../../mesh/model/cluster-id";

/** Outputs of the provider. */
interface GeneratedUuidState {
  /** The generated UUID. */
  value: string;
}

/**
 * The provider of {@link GeneratedToken} and {@link GeneratedTrustDomain}: `create` draws a
 * random UUID; nothing else ever changes it. Self-contained: Pulumi serializes it.
 */
export const generatedUuidProvider = {
  /** Draws the UUID. */
  async create(_inputs: Record<string, unknown>) {
    const { randomUUID } = await import("node:crypto");
    const value = randomUUID();
    const outs: GeneratedUuidState = { value };
    // The ID is a second UUID: nothing of a secret shows in plain state.
    return { id: randomUUID(), outs };
  },
  /** Inputs never change the UUID. */
  async diff() {
    return { changes: false };
  },
};

/** A secret UUID drawn once and kept in the stack's state. */
export class GeneratedToken extends pulumi.dynamic.Resource {
  /** The token; a Pulumi secret. */
  declare readonly value: pulumi.Output<string>;

  constructor(name: string, opts?: pulumi.CustomResourceOptions) {
    super(
      generatedUuidProvider,
      name,
      { value: undefined },
      { ...opts, additionalSecretOutputs: ["value"] },
      undefined,
      "GeneratedToken",
    );
  }
}

/**
 * A Connect trust domain `<uuid>.consul` drawn once and kept in the stack's state (in plain
 * text: it is no secret), so that every stack has a trust domain of its own, stable across
 * `pulumi up`. Its UUID is the cluster ID the servers are pinned to.
 */
export class GeneratedTrustDomain extends pulumi.dynamic.Resource {
  /** The cluster ID: the UUID drawn. */
  declare readonly value: pulumi.Output<string>;
  /** The trust domain, `<value>.consul`. */
  readonly trustDomain: pulumi.Output<string>;

  constructor(name: string, opts?: pulumi.CustomResourceOptions) {
    super(generatedUuidProvider, name, { value: undefined }, opts, undefined, "GeneratedTrustDomain");
    this.trustDomain = this.value.apply(trustDomainOfClusterId);
  }
}
