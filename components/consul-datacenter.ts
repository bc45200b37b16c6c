/**
 * What the components need of a Consul datacenter they add to: `Datacenter` (one this library
 * runs on Docker) and `ExistingDatacenter` (one that runs already) both are one.
 */
import type * as consul from "@pulumi/consul";
import type * as pulumi from "@pulumi/pulumi";
import type { AclRight } from "../consul/authorize";

/** A Consul datacenter the components add gateways, config entries and services to. */
export interface ConsulDatacenter {
  /** The datacenter's name, as its agents' `datacenter`. */
  readonly name: string;
  /** Its HTTP API as the Pulumi program reaches it, as `CONSUL_HTTP_ADDR` takes it. */
  readonly httpAddress: pulumi.Input<string>;
  /** The ACL token the components write with (a secret). Default: none (ACLs off, or anonymous). */
  readonly token?: pulumi.Output<string>;
  /** PEM CA certificate(s) that verify an `https` API. Default: none (the system's roots). */
  readonly caPem?: pulumi.Input<string>;
  /** Whether ACLs are enabled: then each gateway gets a policy and token of its own. */
  readonly aclEnabled: boolean;
  /** A `consul.Provider` for it. */
  readonly provider: consul.Provider;
  /**
   * The provider that writes global ACL objects (policies, tokens), reading them back where they live (the
   * primary). Default: {@link ConsulDatacenter.provider}.
   */
  readonly aclProvider?: consul.Provider;
  /** What must run before anything talks to it (a `Datacenter`'s servers; none for an existing one). */
  readonly servers: pulumi.Resource[];
  /** Its HTTP API as a container it runs reaches it (a gateway's `--consul`). */
  readonly lanHttpAddress: pulumi.Input<string>;
  /**
   * Its agent's gRPC (xDS) server as a container reaches it, as `CONSUL_GRPC_ADDR` takes it (`--consul-grpc`).
   * Default: none (the HTTP API's host on 8502, 8503 with https).
   */
  readonly lanGrpcAddress?: pulumi.Input<string>;
  /** The Docker network its containers join. Default: none (the host's network). */
  readonly lanNetworkName?: pulumi.Input<string>;
  /** The IPv4 subnet of that network when this library places containers at fixed addresses in it. Default: none. */
  readonly lanSubnet?: string;
  /**
   * Checks, at preview and update, that {@link ConsulDatacenter.token} holds `rights`: the output fails the run
   * naming each missing right and who needs it. Default: none (a datacenter this library runs has its own
   * management token).
   * @param who - Who needs them, e.g. `MeshGateway "gw"`.
   * @param rights - The rights.
   */
  checkRights?(who: string, rights: AclRight[]): pulumi.Output<string[]>;
}
