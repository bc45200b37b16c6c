/**
 * An ACL token whose secret is drawn first (a `GeneratedToken`), so that it can be written into
 * an agent's configuration before Consul runs, and created in Consul once it does: the servers'
 * own tokens (`acl.tokens.agent`, `acl.tokens.replication`). `@pulumi/consul`'s `AclToken`
 * cannot take a secret. The provider lives beside the agent client it calls (see
 * `agent-service-registration.ts` for why).
 */
import * as pulumi from "@pulumi/pulumi";
import { presetAclTokenProvider } from "../../consul/agent";

export { presetAclTokenProvider, type PresetAclTokenState } from "../../consul/agent";

/** Arguments of {@link PresetAclToken}. */
export interface PresetAclTokenArgs {
  /** HTTP address of a datacenter's API the Pulumi program reaches (writes are forwarded to the primary). */
  address: pulumi.Input<string>;
  /** A token that may write ACLs (the management token); stored as a secret. */
  token: pulumi.Input<string>;
  /** PEM CA bundle for an `https` API. Default: Node's CAs. */
  caPem?: pulumi.Input<string>;
  /** The primary datacenter, asked through `address`, where global tokens live. Default: the agent's own. */
  datacenter?: string;
  /** The secret (e.g. a `GeneratedToken`'s value); stored as a secret. */
  secretId: pulumi.Input<string>;
  /** The token's description. */
  description: string;
  /** Node identities. Default: none. */
  nodeIdentities?: { nodeName: string; datacenter: string }[];
  /** Names of policies. Default: none. */
  policies?: pulumi.Input<pulumi.Input<string>[]>;
}

/** A global ACL token with a secret drawn beforehand. */
export class PresetAclToken extends pulumi.dynamic.Resource {
  /** The token's accessor ID. */
  declare readonly accessorId: pulumi.Output<string>;

  constructor(name: string, args: PresetAclTokenArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      presetAclTokenProvider,
      name,
      {
        address: args.address,
        token: pulumi.secret(args.token),
        caPem: args.caPem,
        datacenter: args.datacenter,
        secretId: pulumi.secret(args.secretId),
        description: args.description,
        nodeIdentities: args.nodeIdentities ?? [],
        policies: args.policies ?? [],
        accessorId: undefined,
      },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "token", "secretId"] },
      undefined,
      "PresetAclToken",
    );
  }
}
