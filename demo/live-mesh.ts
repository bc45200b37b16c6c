/**
 * Runs a mesh model live on loopback: a real gateway per datacenter, a demo TLS service behind
 * every connect endpoint, and one certificate-verified TLS connection per planned upstream,
 * dialled exactly where that upstream's sidecar would dial (its route plan's first hop).
 */
import tls from "node:tls";
import { startGateway, type GatewayHandle } from "../gateway";
import { planRoutes, renderGatewayRoutes, serviceSni, type Mesh, type PlannedRoute, type RouteEndpoint } from "../mesh";
import { createTestPki } from "./pki";
import { startEchoServer } from "./echo-server";
import { toLoopbackMesh } from "./loopback-mesh";

/** The outcome of one upstream's path. */
export interface PathResult {
  /** The planned route that was tried. */
  route: PlannedRoute;
  /** Where the connection was dialled (`host:port`). */
  dialled: string;
  /** Whether the destination answered over TLS with a certificate valid for the route's SNI name. */
  ok: boolean;
  /** What the destination answered. */
  answer?: string;
  /** Why it failed. */
  error?: string;
}

/** What a live run found. */
export interface LiveMeshReport {
  paths: PathResult[];
  /** A name no gateway routes, sent to the first gateway: it must be refused. */
  unknownName: { sni: string; refused: boolean };
}

const PROBE_TIMEOUT_MS = 5000;

/** Starts the mesh on loopback, probes every upstream's path, and tears everything down. */
export async function runLiveMesh(model: Mesh): Promise<LiveMeshReport> {
  const { mesh, adminAddress } = toLoopbackMesh(model);
  const plan = planRoutes(mesh);
  const pki = await createTestPki("consul-mesh-demo-");
  const closers: Array<() => Promise<void>> = [() => pki.cleanup()];
  try {
    const endpoints = new Map<string, RouteEndpoint[]>(); // key: SNI name
    for (const dc of mesh.datacenters) {
      const routes = renderGatewayRoutes(mesh, dc.name);
      for (const service of routes.services) {
        const sni = serviceSni({
          ...service,
          service: service.name,
          datacenter: dc.name,
          trustDomain: plan.trustDomain,
        });
        const { key, cert } = await pki.issue([sni]);
        endpoints.set(sni, service.endpoints);
        for (const endpoint of service.endpoints) {
          const server = await startEchoServer({
            host: endpoint.address,
            port: endpoint.port,
            key,
            cert,
            banner: `${service.name} (${dc.name}) got: `,
          });
          closers.push(server.close);
        }
      }
    }
    const gateways: GatewayHandle[] = [];
    for (const gateway of mesh.gateways ?? []) {
      const { lan, wan } = gateway.taggedAddresses ?? {};
      const listen = [lan, wan]
        .filter((a): a is RouteEndpoint => a !== undefined)
        .map((a) => ({ host: a.address, port: a.port }));
      const [adminHost, adminPort] = (adminAddress.get(gateway.datacenter) ?? "").split(":");
      const handle = await startGateway({
        datacenter: gateway.datacenter,
        trustDomain: plan.trustDomain,
        listen,
        admin: adminHost ? { host: adminHost, port: Number(adminPort) } : undefined,
        routes: { static: renderGatewayRoutes(mesh, gateway.datacenter) },
        logLevel: "error",
      });
      gateways.push(handle);
      closers.push(() => handle.close(1000));
    }

    const paths: PathResult[] = [];
    for (const route of plan.routes) {
      const target = firstDial(mesh, route, endpoints);
      const dialled = `${target.address}:${target.port}`;
      try {
        const answer = await probe(target, route.sni, pki.caCert, `hello from ${route.source.service}`);
        paths.push({
          route,
          dialled,
          ok: answer.startsWith(`${route.destination.name} (${route.destination.datacenter})`),
          answer,
        });
      } catch (error) {
        paths.push({ route, dialled, ok: false, error: (error as Error).message });
      }
    }

    const first = mesh.gateways?.[0]?.taggedAddresses?.lan;
    const unknownSni = `unknown.default.${mesh.datacenters[0].name}.internal.${plan.trustDomain}`;
    let refused = false;
    if (first) {
      refused = await probe(first, unknownSni, pki.caCert, "x").then(
        () => false,
        () => true,
      );
    }
    return { paths, unknownName: { sni: unknownSni, refused } };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
}

/** Where the route's sidecar dials: the gateway its plan names first, or the destination itself. */
function firstDial(mesh: Mesh, route: PlannedRoute, endpoints: Map<string, RouteEndpoint[]>): RouteEndpoint {
  const hop = route.hops[1];
  if (hop?.kind === "mesh-gateway") {
    const gateway = mesh.gateways?.find((g) => g.datacenter === hop.datacenter);
    const address = hop.address === "LAN" ? gateway?.taggedAddresses?.lan : gateway?.taggedAddresses?.wan;
    if (address) return address;
  }
  const direct = endpoints.get(route.sni)?.[0];
  if (!direct) throw new Error(`${route.path}: no endpoint for ${route.sni}`);
  return direct;
}

/** One TLS round trip with full certificate verification against `servername`. */
function probe(target: RouteEndpoint, servername: string, ca: string, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: target.address, port: target.port, servername, ca, timeout: PROBE_TIMEOUT_MS },
      () => {
        socket.write(message);
      },
    );
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      answer += chunk;
      if (answer.endsWith(message)) {
        socket.end();
        resolve(answer);
      }
    });
    socket.on("timeout", () => socket.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    socket.on("error", reject);
    socket.on("close", () => reject(new Error("connection closed before an answer")));
  });
}
