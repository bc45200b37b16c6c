/**
 * A secret UUID generated once, when the resource is created, and kept in the stack's state
 * (as a Pulumi secret) from then on: the ACL initial management token when the user gives
 * none. A Pulumi dynamic resource, so no extra provider package is needed; previews never
 * change it (no randomness in inputs), only `create` draws it.
 */
import * as pulumi from "@pulumi/pulumi";

/** Outputs of the provider. */
interface GeneratedTokenState {
  /** The generated token. */
  value: string;
}

/** The provider: `create` draws a random UUID; nothing else ever changes it. */
export const generatedTokenProvider = {
  /** Draws the token. */
  async create(_inputs: Record<string, unknown>) {
    const { randomUUID } = await import("node:crypto");
    const value = randomUUID();
    const outs: GeneratedTokenState = { value };
    // The ID is a second UUID: nothing of the secret shows in plain state.
    return { id: randomUUID(), outs };
  },
  /** Inputs never change the token. */
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
      generatedTokenProvider,
      name,
      { value: undefined },
      { ...opts, additionalSecretOutputs: ["value"] },
      undefined,
      "GeneratedToken",
    );
  }
}
