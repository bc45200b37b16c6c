/**
 * `ConsulMesh`: the whole topology in one component. It validates the mesh with `mesh/`
 * (every problem in one error, before any resource exists), then creates the WAN
 * federation, the datacenters, the config entries (in the primary datacenter, from which
 * Consul replicates them), the mesh gateways and the connect services, and exports the
 * route plan: which path each upstream's traffic takes and why, as data, a table and a diagram.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Mesh, RoutePlan, RoutesFile } from "../mesh";
import { ConnectService } from "./connect-service";
import { Datacenter } from "./datacenter";
import { ConsulCertificateAuthority, GossipKey } from "./dynamic/consul-secrets";
import { GeneratedToken, GeneratedTrustDomain } from "./dynamic/generated-token";
import { DEFAULT_GATEWAY_IMAGE_NAME } from "./images/gateway-image";
import { MeshGateway } from "./mesh-gateway";
import { throwIfProblems } from "./plans/arg-problems";
import { consulMeshProblems, type ConsulMeshPlanArgs } from "./plans/consul-mesh-args";
import { planConsulMesh, type ConsulMeshPlan, type PlannedConnectService } from "./plans/consul-mesh-plan";
import { routeDiagramSvg } from "./plans/route-plan-outputs";
import { ProxyDefaults } from "./proxy-defaults";
import { ServiceDefaults } from "./service-defaults";
import { ServiceIntentions } from "./service-intentions";
import { WanFederation } from "./wan-federation";
import { Workload } from "./workload";

export { DEFAULT_DEMO_HOST_PORT } from "./plans/consul-mesh-args";

/** Arguments of {@link ConsulMesh}: the mesh model (plain), and how to deploy it on Docker. */
export interface ConsulMeshArgs extends ConsulMeshPlanArgs {
  /**
   * Image of the gateways (e.g. `GatewayImage.imageName`). Default: `"consul-mesh/sni-gateway:latest"`
   * (`DEFAULT_GATEWAY_IMAGE_NAME`, what `GatewayImage` builds).
   */
  gatewayImage?: pulumi.Input<string>;
  /** Consul image of the servers. Default: `CONSUL_IMAGE` (`hashicorp/consul`, pinned). */
  consulImage?: pulumi.Input<string>;
  /**
   * ACL initial management token shared by the datacenters that enable ACLs. Default: a UUID generated once,
   * kept secret.
   */
  initialManagementToken?: pulumi.Input<string>;
  /**
   * Run a workload behind every connect service with a sidecar: a demo HTTP service and an Envoy
   * sidecar configured by Consul, so that the mesh carries traffic once `pulumi up` returns.
   * Default: none (services are registered only).
   */
  workloads?: WorkloadsArgs;
}

/** The workloads of {@link ConsulMeshArgs}. */
export interface WorkloadsArgs {
  /** An image with Node.js for the demo services (e.g. the gateway image). */
  appImage: pulumi.Input<string>;
  /** The sidecar image (`SidecarImage.imageRef`, or a published image running `consul connect envoy`). */
  sidecarImage: pulumi.Input<string>;
  /** Host port on 127.0.0.1 of the first service with upstreams (`demoUrl`). Default: `8080`. */
  demoHostPort?: number;
}

/** A whole Consul mesh with gateways across datacenters, on Docker. */
export class ConsulMesh extends pulumi.ComponentResource {
  /** The validated mesh model. */
  readonly mesh: Mesh;
  /**
   * The mesh's Connect trust domain: the `trustDomain` given, else a `<uuid>.consul` drawn once
   * (a `GeneratedTrustDomain`) and kept in the stack's state, so that each stack has its own,
   * stable across `pulumi up`. The servers are pinned to it, the gateways given it, and the route
   * plan and the routes files name it. Not a secret.
   */
  readonly trustDomain: pulumi.Output<string>;
  /** The route plan of every upstream (mode, deciding level, SNI name, hops). */
  readonly routePlan: pulumi.Output<RoutePlan>;
  /**
   * The route plan as a readable table (`pulumi stack output routePlanText`), in ASCII: a preview
   * shows the first 150 bytes of each line, and a cut through a multi-byte arrow shows as escapes.
   */
  readonly routePlanText: pulumi.Output<string>;
  /** One short ASCII line per upstream, as a preview shows it whole: `web (dc1) -> api (dc2): remote (upstream) via ...`. */
  readonly routeSummary: pulumi.Output<string[]>;
  /**
   * The route plan as a diagram, an SVG document: datacenters, gateways with their LAN and WAN
   * addresses, and each upstream's path coloured by its mode (`routeDiagramDot`). For a mesh of more
   * than `DEFAULT_MAX_ROUTES` routes, a picture of the `DiagramTooLargeError` message instead.
   */
  readonly routeDiagramSvg: pulumi.Output<string>;
  /** The WAN federation (more than one datacenter). */
  readonly wan?: WanFederation;
  /** The datacenters, by name. */
  readonly datacenters: Record<string, Datacenter>;
  /** The CA that signs every datacenter's servers (TLS on somewhere); its key is a secret in the state. */
  certificateAuthority?: ConsulCertificateAuthority;
  /** `proxy-defaults`, when declared. */
  readonly proxyDefaults?: ProxyDefaults;
  /** `service-defaults`, by service name. */
  readonly serviceDefaults: Record<string, ServiceDefaults>;
  /** The mesh gateways, in declaration order. */
  readonly gateways: MeshGateway[];
  /** The connect services, in declaration order. */
  readonly services: ConnectService[];
  /** The routes file of each gateway in file mode, by `<datacenter>/<gateway name>` (it names the trust domain). */
  readonly routesFiles: Record<string, pulumi.Output<RoutesFile>>;
  /** The `service-intentions` entries, by destination (ACLs on and `allowDeclaredUpstreams`). */
  readonly intentions: Record<string, ServiceIntentions>;
  /** The workloads, by `<datacenter>/<service ID>` (with `workloads`). */
  readonly workloads: Record<string, Workload>;
  /**
   * The demo service of the first service with upstreams, on this host: it answers with what each
   * upstream returned and the mode and path the plan gives it (with `workloads`).
   */
  readonly demoUrl?: string;

  constructor(name: string, args: ConsulMeshArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate everything before anything exists: every problem in one error.
    throwIfProblems(consulMeshProblems(args), `mesh of ConsulMesh ${JSON.stringify(name)}`);
    const plan = planConsulMesh(name, args);
    super("consul-mesh:index:ConsulMesh", name, {}, opts);
    this.mesh = plan.mesh;
    this.trustDomain = plan.generatedTrustDomain
      ? new GeneratedTrustDomain(plan.generatedTrustDomain, { parent: this }).trustDomain
      : pulumi.output(plan.trustDomain as string);
    const routes = this.trustDomain.apply((trustDomain) => plan.routesOf(trustDomain));
    this.routePlan = routes.routePlan;
    this.routePlanText = routes.routePlanText;
    this.routeSummary = pulumi.output(plan.routeSummary);
    this.routeDiagramSvg = routes.routePlan.apply((routePlan) => routeDiagramSvg(plan.mesh, routePlan));
    this.routesFiles = {};
    for (const gw of plan.gateways)
      if (gw.routes.source === "file") {
        const file = gw.routes.file;
        this.routesFiles[file] = routes.apply((r) => r.routesFiles[file]);
      }
    if (plan.wan) this.wan = new WanFederation(plan.wan.resourceName, plan.wan.args, { parent: this });
    this.gateways = [];
    this.datacenters = this.placeDatacenters(plan, args);
    const provider = this.datacenters[plan.primary].provider;
    const inPrimary = { parent: this, provider, deletedWith: this.stateOf(plan.primary) };
    if (plan.proxyDefaults) {
      const { resourceName, args: entry } = plan.proxyDefaults;
      this.proxyDefaults = new ProxyDefaults(resourceName, entry, inPrimary);
    }
    this.serviceDefaults = {};
    for (const { resourceName, args: entry } of plan.serviceDefaults)
      this.serviceDefaults[entry.service] = new ServiceDefaults(resourceName, entry, inPrimary);
    this.intentions = {};
    for (const { resourceName, args: entry } of plan.intentions)
      this.intentions[entry.destination] = new ServiceIntentions(resourceName, entry, inPrimary);
    this.workloads = {};
    this.services = plan.services.map((service) => this.placeService(service, args));
    if (plan.demoUrl) this.demoUrl = plan.demoUrl;
    this.registerOutputs({
      trustDomain: this.trustDomain,
      routePlan: this.routePlan,
      routePlanText: this.routePlanText,
      routeSummary: this.routeSummary,
      routeDiagramSvg: this.routeDiagramSvg,
      datacenters: plan.datacenterNames,
      demoUrl: this.demoUrl,
    });
  }

  /**
   * What holds the Consul state of a datacenter: its first server's data volume. Once it goes, so
   * has everything written there, and destroy need not (and, with the servers gone, could not)
   * delete it.
   */
  private stateOf(datacenter: string): pulumi.Resource {
    return this.datacenters[datacenter].dataVolumes[0];
  }

  /**
   * The datacenters, by name, sharing one management token where they enable ACLs, one CA where
   * they enable TLS and one gossip key where they encrypt gossip.
   */
  private placeDatacenters(plan: ConsulMeshPlan, args: ConsulMeshArgs): Record<string, Datacenter> {
    let token = args.initialManagementToken;
    if (plan.generatedToken) token = new GeneratedToken(plan.generatedToken, { parent: this }).value;
    if (plan.certificateAuthority)
      this.certificateAuthority = new ConsulCertificateAuthority(plan.certificateAuthority, {}, { parent: this });
    const gossipKey = plan.gossipKey && new GossipKey(plan.gossipKey, {}, { parent: this }).value;
    const datacenters: Record<string, Datacenter> = {};
    // The primary first: a secondary's server tokens are made there.
    const inOrder = [...plan.datacenters].sort(
      (a, b) => Number(b.args.datacenter.name === plan.primary) - Number(a.args.datacenter.name === plan.primary),
    );
    // Through the gateways, a secondary's servers (on their LAN alone) first reach the primary
    // through its gateways, which join the secondaries' LANs for that: placed last, the
    // secondaries' servers wait for them.
    const throughGateways = this.wan?.mode === "mesh-gateways";
    const primaryPlanned = plan.gateways.filter((gw) => gw.datacenter === plan.primary);
    let primaryPlaced: (gateways: MeshGateway[]) => void = () => undefined;
    const primaryGateways = new Promise<MeshGateway[]>((resolve) => (primaryPlaced = resolve));
    for (const dc of inOrder) {
      const name = dc.args.datacenter.name;
      datacenters[name] = new Datacenter(
        dc.resourceName,
        {
          ...dc.args,
          image: args.consulImage,
          wan: this.wan?.attachment(dc.args.datacenter.name),
          initialManagementToken: dc.aclEnabled ? token : undefined,
          primary: name === plan.primary ? undefined : datacenters[plan.primary],
          ca: dc.tls ? this.certificateAuthority : undefined,
          gossipKey: dc.gossipEncryption ? gossipKey : undefined,
          trustDomain: plan.pinsServers ? this.trustDomain : undefined,
          ...(throughGateways && name !== plan.primary
            ? { primaryGateways: { addresses: plan.primaryGateways ?? [], gateways: primaryGateways } }
            : {}),
        },
        { parent: this },
      );
      if (throughGateways && name === plan.primary) continue;
      for (const gw of plan.gateways.filter((g) => g.datacenter === name))
        this.gateways.push(this.placeGateway(gw, args, datacenters, plan.primary));
    }
    if (throughGateways) {
      const secondaryLans = Object.values(datacenters)
        .filter((dc) => dc.name !== plan.primary)
        .map((dc) => dc.lanNetworkName);
      const placed = primaryPlanned.map((gw) => this.placeGateway(gw, args, datacenters, plan.primary, secondaryLans));
      this.gateways.push(...placed);
      primaryPlaced(placed);
    } else primaryPlaced([]);
    return datacenters;
  }

  /** A mesh gateway of the plan, in its datacenter. */
  private placeGateway(
    gw: ConsulMeshPlan["gateways"][number],
    args: ConsulMeshArgs,
    datacenters: Record<string, Datacenter>,
    primary: string,
    serverNetworks?: pulumi.Input<string>[],
  ): MeshGateway {
    return new MeshGateway(
      gw.resourceName,
      {
        ...gw.args,
        trustDomain: this.trustDomain,
        routes:
          gw.routes.source === "file"
            ? { source: "file", routes: this.routesFiles[gw.routes.file] }
            : { source: "consul" },
        datacenter: datacenters[gw.datacenter],
        aclProvider: datacenters[primary].provider,
        wan: this.wan,
        image: args.gatewayImage ?? DEFAULT_GATEWAY_IMAGE_NAME,
        consulState: datacenters[primary].dataVolumes[0],
        ...(serverNetworks ? { serverNetworks } : {}),
      },
      { parent: this },
    );
  }

  /** A connect service, and the workload behind it when planned. */
  private placeService(planned: PlannedConnectService, args: ConsulMeshArgs): ConnectService {
    const datacenter = this.datacenters[planned.datacenter];
    const registered = new ConnectService(
      planned.resourceName,
      { service: planned.service, datacenter },
      { parent: this, deletedWith: this.stateOf(planned.datacenter) },
    );
    const workload = planned.workload;
    if (workload && args.workloads) {
      const networks = [
        ...(this.wan ? [this.wan.networkName] : []),
        ...workload.otherDatacenters.map((dc) => this.datacenters[dc].lanNetworkName),
      ];
      this.workloads[workload.key] = new Workload(
        workload.resourceName,
        {
          ...workload.args,
          datacenter,
          otherNetworks: networks,
          appImage: args.workloads.appImage,
          sidecarImage: args.workloads.sidecarImage,
          registration: registered.registration,
        },
        // The sidecars need the gateways (their upstreams' paths) and the intentions.
        { parent: this, dependsOn: [...this.gateways, ...Object.values(this.intentions)] },
      );
    }
    return registered;
  }
}
