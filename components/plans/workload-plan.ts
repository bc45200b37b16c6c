/**
 * Where the workloads of a mesh run (pure: no Pulumi): one per connect service with a sidecar,
 * at a fixed LAN address of its datacenter, with the upstreams its demo service calls as the
 * route plan gives them; and what `Workload` creates for one: the demo service's container and
 * its Envoy sidecar's.
 */
import { ENVOY_ADMIN_PORT, type Mesh, type RoutePlan } from "../../mesh";
import { isIpAddress, lanWorkloadAddress } from "./address-plan";
import { DEMO_APP_SOURCE, demoHealthCheck, type DemoUpstream } from "./demo-app";
import { DEFAULT_RESOURCE_PREFIX, dockerLabels, type DockerLabel, type NetworkPlacement } from "./docker-plan";

/** One planned workload. */
export interface PlannedWorkload {
  /** Index of the service in `mesh.services`. */
  index: number;
  /** The service ID (`id`, else `name`). */
  serviceId: string;
  /** The service name. */
  serviceName: string;
  /** Its datacenter. */
  datacenter: string;
  /** The port the service listens on. */
  port: number;
  /** Its fixed LAN address, which the registration carries. */
  lanAddress: string;
  /** Network aliases: the model's address when it is a host name. */
  aliases: string[];
  /** The upstreams its demo service calls. */
  upstreams: DemoUpstream[];
  /** The host port that publishes it: the first service with upstreams gets `demoHostPort`. */
  hostPort?: number;
}

/**
 * What the demo service of `mesh.services[index]` calls and tells: each of its upstreams, with the mode
 * and path the route plan gives it.
 * @param plan - The mesh's route plan.
 * @param index - The service's index in `mesh.services`.
 */
export function demoUpstreams(plan: RoutePlan, index: number): DemoUpstream[] {
  return plan.routes
    .filter((route) => route.path.startsWith(`services[${index}].`))
    .map((route) => ({
      name: route.destination.name,
      datacenter: route.destination.datacenter,
      localBindPort: route.localBindPort,
      mode: route.mode,
      path: route.text,
    }));
}

/**
 * The workloads of a mesh.
 * @param mesh - A valid mesh.
 * @param plan - Its route plan.
 * @param lanSubnetOf - The LAN subnet of each datacenter.
 * @param demoHostPort - Host port of the first service with upstreams. Default: none published.
 */
export function planWorkloads(
  mesh: Mesh,
  plan: RoutePlan,
  lanSubnetOf: (datacenter: string) => string,
  demoHostPort?: number,
): PlannedWorkload[] {
  const placed = new Map<string, number>();
  let published = demoHostPort === undefined;
  const workloads: PlannedWorkload[] = [];
  (mesh.services ?? []).forEach((service, index) => {
    if (!service.connect?.sidecarService || service.port === undefined) return;
    const k = placed.get(service.datacenter) ?? 0;
    placed.set(service.datacenter, k + 1);
    const upstreams = demoUpstreams(plan, index);
    const workload: PlannedWorkload = {
      index,
      serviceId: service.id ?? service.name,
      serviceName: service.name,
      datacenter: service.datacenter,
      port: service.port,
      lanAddress: lanWorkloadAddress(lanSubnetOf(service.datacenter), k),
      aliases: service.address && !isIpAddress(service.address) ? [service.address] : [],
      upstreams,
    };
    if (!published && upstreams.length > 0) {
      workload.hostPort = demoHostPort;
      published = true;
    }
    workloads.push(workload);
  });
  return workloads;
}

/** The plain arguments of one workload: what decides its containers. */
export interface WorkloadPlanArgs {
  /** The service ID the sidecar proxies for (`-sidecar-for`). */
  serviceId: string;
  /** The service name the demo answers with. */
  serviceName: string;
  /** The port the demo service listens on (the registration's `Port`). */
  port: number;
  /**
   * The datacenter: its name and where its containers reach the agent's HTTP API and gRPC, with
   * whether a CA verifies them (a `Datacenter` has them).
   */
  datacenter: { name: string; lanHttpAddress: string; lanGrpcAddress: string; caPem?: unknown };
  /** The container's fixed address on the datacenter's LAN (the registration's `Address`). */
  lanAddress: string;
  /** Network aliases on the LAN (e.g. the model's host name of the service). Default: none. */
  aliases?: string[];
  /** The upstreams the demo service calls. Default: none. */
  upstreams?: DemoUpstream[];
  /** Host port on 127.0.0.1 that publishes the demo service. Default: not published. */
  hostPort?: number;
  /**
   * Host address on which `hostPort` is published (e.g. the Docker host's address, when the program runs
   * elsewhere). Default: `"127.0.0.1"`.
   */
  hostAddress?: string;
  /** Prefix of container names. Default: `"consul-mesh"`. */
  resourcePrefix?: string;
}

/** The two containers of a workload, but for what Pulumi resolves (images, networks, the token). */
export interface WorkloadContainersPlan {
  /** The demo service's container; its network namespace is the sidecar's. */
  app: {
    resourceName: string;
    container: {
      name: string;
      hostname: string;
      entrypoints: string[];
      envs: string[];
      ports: { internal: number; external: number; ip: string }[];
      healthcheck: { tests: string[]; interval: string; timeout: string; startPeriod: string; retries: number };
      init: boolean;
      restart: string;
      destroyGraceSeconds: number;
      labels: DockerLabel[];
    };
    /** Where it sits on its datacenter's LAN. */
    lan: NetworkPlacement;
  };
  /** The Envoy sidecar's container, `consul connect envoy -sidecar-for <id>`. */
  sidecar: {
    resourceName: string;
    container: { name: string; command: string[]; restart: string; destroyGraceSeconds: number; labels: DockerLabel[] };
    /** The variable that carries its ACL token, when it has one. */
    tokenEnv: string;
    /** Where the datacenter's CA is uploaded, when a CA verifies its agent. */
    caFile?: string;
    /** With ACLs: its token, a service identity (`service:write` on the service and its sidecar). */
    token: { resourceName: string; description: string; serviceName: string };
  };
}

/**
 * The containers of one workload.
 * @param name - The component's name, which its resources' names start with.
 * @param args - The arguments.
 */
export function planWorkloadContainers(name: string, args: WorkloadPlanArgs): WorkloadContainersPlan {
  const dc = args.datacenter.name;
  const prefix = args.resourcePrefix ?? DEFAULT_RESOURCE_PREFIX;
  const tls = args.datacenter.caPem !== undefined;
  // `consul connect envoy` takes a bare host:port gRPC address as plaintext, `https://` as TLS.
  const grpc = args.datacenter.lanGrpcAddress;
  const caFlags = tls ? ["-ca-file", SIDECAR_CA_FILE, "-grpc-ca-file", SIDECAR_CA_FILE] : [];
  return {
    app: {
      resourceName: `${name}-app`,
      container: {
        name: `${prefix}-${dc}-${args.serviceId}`,
        hostname: `${args.serviceId}-${dc}`,
        entrypoints: ["node", "-e", DEMO_APP_SOURCE],
        envs: [
          `DEMO_DATACENTER=${dc}`,
          `DEMO_PORT=${args.port}`,
          `DEMO_SERVICE=${args.serviceName}`,
          `DEMO_UPSTREAMS=${JSON.stringify(args.upstreams ?? [])}`,
        ],
        ports:
          args.hostPort === undefined
            ? []
            : [{ internal: args.port, external: args.hostPort, ip: args.hostAddress ?? "127.0.0.1" }],
        // The image's own health check is the gateway's, when it is the gateway image.
        healthcheck: {
          tests: demoHealthCheck(args.port),
          interval: "5s",
          timeout: "3s",
          startPeriod: "2s",
          retries: 3,
        },
        init: true,
        restart: "unless-stopped",
        destroyGraceSeconds: 10,
        labels: dockerLabels({ datacenter: dc, role: "app", service: args.serviceId }),
      },
      lan: { ipv4Address: args.lanAddress, aliases: [...(args.aliases ?? [])].sort() },
    },
    sidecar: {
      resourceName: `${name}-sidecar`,
      container: {
        name: `${prefix}-${dc}-${args.serviceId}-sidecar`,
        command: [
          "-sidecar-for",
          args.serviceId,
          "-http-addr",
          args.datacenter.lanHttpAddress,
          "-grpc-addr",
          grpc,
          ...caFlags,
          "-admin-bind",
          `127.0.0.1:${ENVOY_ADMIN_PORT}`,
          // Consul 1.16 names Envoy 1.23–1.26; newer ones work as sidecars here (test/real).
          "-ignore-envoy-compatibility",
        ],
        restart: "unless-stopped",
        destroyGraceSeconds: 10,
        labels: dockerLabels({ datacenter: dc, role: "sidecar", service: args.serviceId }),
      },
      tokenEnv: "CONSUL_HTTP_TOKEN",
      ...(tls ? { caFile: SIDECAR_CA_FILE } : {}),
      token: {
        resourceName: `${name}-token`,
        description: `sidecar of ${args.serviceId} in ${dc}`,
        serviceName: args.serviceName,
      },
    },
  };
}

/** Where a sidecar reads the CA that verifies its agent. */
export const SIDECAR_CA_FILE = "/consul/ca.pem";
