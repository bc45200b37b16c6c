/**
 * `Workload`: what runs behind one connect service with a sidecar: the demo service's container
 * (`demo-app.ts`) and an Envoy sidecar container configured by Consul (`consul connect envoy
 * -sidecar-for <id>`) sharing its network namespace, so that the sidecar's upstream listeners
 * are on the service's own 127.0.0.1 and its public listener on the service's LAN address.
 */
import * as consul from "@pulumi/consul";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { planWorkloadContainers, type WorkloadPlanArgs } from "./plans/workload-plan";
import type { Datacenter } from "./datacenter";

/** Arguments of {@link Workload}. */
export interface WorkloadArgs extends WorkloadPlanArgs {
  /** The datacenter: its LAN network, its servers' HTTP and gRPC addresses, its ACL token. */
  datacenter: Datacenter;
  /**
   * Further networks the container joins with an address Docker picks: the WAN and the other
   * datacenters' LANs, as a flat network between datacenters (what `remote` and `none` upstreams dial). Default: none.
   */
  otherNetworks?: pulumi.Input<string>[];
  /** Image with Node.js for the demo service. */
  appImage: pulumi.Input<string>;
  /** Image whose entry point is `consul connect envoy` (see `SidecarImage`). */
  sidecarImage: pulumi.Input<string>;
  /** The service's registration: the sidecar starts once it exists. Default: none. */
  registration?: pulumi.Resource;
  /**
   * ACL token of the sidecar. Default: with ACLs, a token of its own made through the
   * datacenter's `aclProvider`, a service identity of the service (`service:write` on it and its
   * sidecar, `service:read` and `node:read` on all); else none.
   */
  token?: pulumi.Input<string>;
}

/** The demo service and its Envoy sidecar, as containers. */
export class Workload extends pulumi.ComponentResource {
  /** The demo service's container (its network namespace is the sidecar's). */
  readonly app: docker.Container;
  /** The Envoy sidecar's container. */
  readonly sidecar: docker.Container;
  /** The sidecar's own ACL token, when ACLs are on and no `token` was given. */
  readonly token?: consul.AclToken;

  constructor(name: string, args: WorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("consul-mesh:index:Workload", name, {}, opts);
    const { app, sidecar } = planWorkloadContainers(name, args);
    const networks: docker.types.input.ContainerNetworksAdvanced[] = [
      { name: args.datacenter.lanNetworkName, ...app.lan },
      ...(args.otherNetworks ?? []).map((network) => ({ name: network })),
    ];
    this.app = new docker.Container(
      app.resourceName,
      { ...app.container, image: args.appImage, networksAdvanced: networks },
      // A fixed name and address: the old container must go first.
      { parent: this, deleteBeforeReplace: true },
    );
    let token = args.token;
    if (token === undefined && args.datacenter.aclEnabled) {
      const provider = args.datacenter.aclProvider;
      const { resourceName, description, serviceName } = sidecar.token;
      const created = new consul.AclToken(
        resourceName,
        { description, local: false, serviceIdentities: [{ serviceName }] },
        { parent: this, provider, dependsOn: args.datacenter.servers, deletedWith: args.datacenter.aclState },
      );
      this.token = created;
      token = pulumi.secret(
        consul.getAclTokenSecretIdOutput({ accessorId: created.accessorId }, { parent: this, provider }).secretId,
      );
    }
    const caPem = args.datacenter.caPem;
    this.sidecar = new docker.Container(
      sidecar.resourceName,
      {
        ...sidecar.container,
        image: args.sidecarImage,
        networkMode: pulumi.interpolate`container:${this.app.id}`,
        envs: token ? pulumi.secret([pulumi.interpolate`${sidecar.tokenEnv}=${token}`]) : [],
        uploads: sidecar.caFile && caPem ? [{ file: sidecar.caFile, content: caPem }] : [],
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: args.registration ? [args.registration] : [] },
    );
    this.registerOutputs({});
  }
}
