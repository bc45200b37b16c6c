import {
  DEFAULT_MAX_ROUTES,
  defaultMesh,
  DiagramTooLargeError,
  MODE_COLOURS,
  planRoutes,
  routeDiagramDot,
  type Mesh,
  type MeshGatewaySpec,
  type RouteDiagramOptions,
} from "../../mesh";
import { renderDiagramSvg } from "../../mesh/diagram/diagram-svg";
import { largeMesh } from "../support/large-mesh";

const diagram = (mesh: Mesh, options?: RouteDiagramOptions) => routeDiagramDot(mesh, planRoutes(mesh), options);
const edgesOf = (dot: string) =>
  dot
    .split("\n")
    .filter((line) => line.includes(" -> "))
    .map((line) => line.trim());
const CLUSTER = /subgraph "cluster_datacenter:([^"]*)" \{\n([^]*?)\n {2}\}/g;
/** The datacenters drawn, in order. */
const clustersOf = (dot: string) => [...dot.matchAll(CLUSTER)].map((m) => decodeURIComponent(m[1]));
/** The body of one datacenter's cluster. */
const clusterOf = (dot: string, dc: string) =>
  [...dot.matchAll(CLUSTER)].find((m) => decodeURIComponent(m[1]) === dc)?.[2];

/** The default mesh with a third datacenter that has a gateway but no routes. */
function withIdleDatacenter(): Mesh {
  const mesh = defaultMesh();
  mesh.datacenters.push({ name: "dc3", primaryDatacenter: "dc1" });
  mesh.gateways!.push({ datacenter: "dc3", name: "mesh-gateway", port: 8443, address: "mesh-gateway-dc3" });
  return mesh;
}

describe("routeDiagramDot on the default mesh", () => {
  const dot = diagram(defaultMesh());

  it("draws each datacenter as a cluster: its source services, its gateways, the services reached", () => {
    expect(dot).toMatch(/^digraph "routes" \{\n/);
    expect(clustersOf(dot)).toEqual(["dc1", "dc2"]);
    expect(clusterOf(dot, "dc1")).toContain("label=<<B>dc1</B> (primary)>");
    expect(clusterOf(dot, "dc1")).toContain('"source:dc1/default/default/web"');
    expect(clusterOf(dot, "dc1")).toContain('"gateway:dc1"');
    for (const name of ["api", "db", "logging"]) {
      expect(clusterOf(dot, "dc2")).toContain(`"destination:dc2/default/default/${name}" [label=<${name}>]`);
    }
    expect(dot).toContain('{ rank=same; "gateway:dc1"; "gateway:dc2"; }');
  });

  it("gives each gateway a LAN and a WAN side with their addresses, and each source a port per upstream", () => {
    const side = (port: string, text: string) => `<TD PORT="${port}" ALIGN="LEFT" BGCOLOR="#F2F2F2">${text}</TD>`;
    expect(clusterOf(dot, "dc2")).toContain(side("lan", "<B>LAN</B> mesh-gateway-dc2:8443"));
    expect(clusterOf(dot, "dc2")).toContain(side("wan", "<B>WAN</B> mesh-gateway-dc2:8443"));
    const web = clusterOf(dot, "dc1")!
      .split("\n")
      .find((line) => line.includes('"source:dc1/default/default/web"'));
    expect(web).toContain('<TD ROWSPAN="3">web</TD><TD PORT="p10000">10000</TD>');
    expect(web).toContain('<TD PORT="p10001">10001</TD>');
    expect(web).toContain('<TD PORT="p10002">10002</TD>');
  });

  it("draws every route hop by hop, out of its bind port, coloured by its mode and dashed when direct", () => {
    const web = '"source:dc1/default/default/web"';
    expect(edgesOf(dot).sort()).toEqual(
      [
        // remote: web → mesh-gateway dc2 WAN → api
        `${web}:"p10000":e -> "gateway:dc2":wan [color="${MODE_COLOURS.remote}"];`,
        `"gateway:dc2":lan -> "destination:dc2/default/default/api" [color="${MODE_COLOURS.remote}"];`,
        // local: web → mesh-gateway dc1 LAN → mesh-gateway dc2 WAN → db
        `${web}:"p10001":e -> "gateway:dc1":lan [color="${MODE_COLOURS.local}"];`,
        `"gateway:dc1":wan:e -> "gateway:dc2":wan:e [color="${MODE_COLOURS.local}"];`,
        `"gateway:dc2":lan -> "destination:dc2/default/default/db" [color="${MODE_COLOURS.local}"];`,
        // none: web → logging, direct
        `${web}:"p10002":e -> "destination:dc2/default/default/logging" [color="${MODE_COLOURS.none}", style=dashed];`,
      ].sort(),
    );
  });

  it("has a legend with a sample line of each mode's colour and what the mode means", () => {
    const legend = /graph \[labelloc=t, labeljust=l, label=(<.*>)\];/.exec(dot)?.[1];
    expect(legend).toBeDefined();
    for (const [mode, colour] of Object.entries(MODE_COLOURS)) {
      expect(legend).toContain(`BGCOLOR="${colour}"`);
      expect(legend).toContain(`<B>${mode}</B>: `);
    }
    expect(legend).toContain("Dashed: no gateway");
    expect(legend).toContain("local bind port");
  });

  it("uses three distinct colours", () => {
    expect(new Set(Object.values(MODE_COLOURS)).size).toBe(3);
  });
});

describe("routeDiagramDot", () => {
  it("draws a datacenter that has a gateway and no routes", () => {
    const dot = diagram(withIdleDatacenter());
    expect(clustersOf(dot)).toEqual(["dc1", "dc2", "dc3"]);
    expect(clusterOf(dot, "dc3")).toContain("<B>LAN</B> mesh-gateway-dc3:8443");
    expect(edgesOf(dot).some((edge) => edge.includes("dc3"))).toBe(false);
  });

  it("shows each side's address as planRoutes dials it: tagged, else the gateway's address, IPv6 in brackets", () => {
    const mesh: Mesh = { datacenters: [{ name: "dc1" }, { name: "dc2" }, { name: "dc3" }], gateways: [] };
    const gateways: MeshGatewaySpec[] = [
      {
        datacenter: "dc1",
        port: 9443,
        taggedAddresses: { lan: { address: "10.0.0.2", port: 8443 }, wan: { address: "203.0.113.5", port: 443 } },
      },
      { datacenter: "dc2", address: "fd00::2" },
      { datacenter: "dc3", name: "edge" },
    ];
    const dot = diagram({ ...mesh, gateways });
    expect(clusterOf(dot, "dc1")).toContain("<B>LAN</B> 10.0.0.2:9443");
    expect(clusterOf(dot, "dc1")).toContain("<B>WAN</B> 203.0.113.5:443");
    expect(clusterOf(dot, "dc2")).toContain("<B>LAN</B> [fd00::2]:8443");
    expect(clusterOf(dot, "dc2")).toContain("<B>WAN</B> [fd00::2]:8443");
    expect(clusterOf(dot, "dc3")).toContain("<B>edge</B>");
    expect(clusterOf(dot, "dc3")).toContain("<B>LAN</B> agent address");
  });

  it("keeps only the routes from or to the services named, and the datacenters they pass through", () => {
    const dot = diagram(withIdleDatacenter(), { services: ["api"] });
    expect(edgesOf(dot)).toHaveLength(2);
    expect(edgesOf(dot).every((edge) => edge.includes(MODE_COLOURS.remote))).toBe(true);
    expect(clustersOf(dot)).toEqual(["dc1", "dc2"]);
    expect(dot).not.toContain("destination:dc2/default/default/db");
  });

  it("keeps only the routes from or to the datacenters named, and draws those datacenters even without routes", () => {
    const mesh = withIdleDatacenter();
    expect(clustersOf(diagram(mesh, { datacenters: ["dc3"] }))).toEqual(["dc3"]);
    expect(edgesOf(diagram(mesh, { datacenters: ["dc3"] }))).toEqual([]);
    expect(clustersOf(diagram(mesh, { datacenters: ["dc2", "dc3"] }))).toEqual(["dc1", "dc2", "dc3"]);
    expect(edgesOf(diagram(mesh, { datacenters: ["dc2", "dc3"] }))).toHaveLength(6);
    expect(edgesOf(diagram(mesh, { services: ["logging"], datacenters: ["dc3"] }))).toEqual([]);
  });

  it("treats empty filter lists as no filter, as filterRoutes does", () => {
    const mesh = withIdleDatacenter();
    expect(diagram(mesh, { services: [], datacenters: [] })).toBe(diagram(mesh));
  });

  it("throws DiagramTooLargeError above maxRoutes, with its counts and the filters to use", () => {
    let error: unknown;
    try {
      diagram(defaultMesh(), { maxRoutes: 2 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DiagramTooLargeError);
    expect(error).toMatchObject({ code: "E_DIAGRAM_TOO_LARGE", routes: 3, services: 4, datacenters: 2, maxRoutes: 2 });
    expect((error as Error).message).toContain("3 routes between 4 services in 2 datacenters, more than the 2");
    expect((error as Error).message).toContain("--service web or --datacenter dc1");
    expect(() => diagram(defaultMesh(), { maxRoutes: 2, services: ["api"] })).not.toThrow();
  });

  it(`draws 10 datacenters × 200 services × 2 upstreams (400 routes), not × 3 (limit ${DEFAULT_MAX_ROUTES})`, () => {
    const mesh = largeMesh({ datacenters: 10, services: 200, upstreamsPerService: 2 });
    const dot = diagram(mesh);
    expect(clustersOf(dot)).toEqual(Array.from({ length: 10 }, (_, i) => `dc${i + 1}`));
    // One first hop per route: out of its own bind port.
    expect(edgesOf(dot).filter((edge) => edge.startsWith('"source:'))).toHaveLength(400);
    const larger = largeMesh({ datacenters: 10, services: 200, upstreamsPerService: 3 });
    expect(() => diagram(larger)).toThrow(DiagramTooLargeError);
  });

  it("refuses the mesh of 10 datacenters × 10,000 services × 5 upstreams, suggesting a filter", () => {
    const mesh = largeMesh({ datacenters: 10, services: 10_000, upstreamsPerService: 5 });
    expect(() => diagram(mesh)).toThrow(/50000 routes between 10000 services in 10 datacenters/);
    expect(() => diagram(mesh)).toThrow(/--service svc-0 or --datacenter dc1$/);
  });

  it("depends on the routes, not on their order or the order of the declarations", () => {
    const mesh = withIdleDatacenter();
    const reversed: Mesh = {
      ...mesh,
      datacenters: [...mesh.datacenters].reverse(),
      gateways: [...mesh.gateways!].reverse(),
      services: [...mesh.services!].reverse(),
    };
    const plan = planRoutes(reversed);
    expect(routeDiagramDot(reversed, { ...plan, routes: [...plan.routes].reverse() })).toBe(diagram(mesh));
  });

  it("shows a service's partition and namespace when they are not the default ones", () => {
    const mesh = defaultMesh();
    mesh.services![0].connect!.sidecarService.proxy!.upstreams![0].destinationNamespace = "team-a";
    expect(diagram(mesh)).toContain('[label=<api <FONT POINT-SIZE="9" COLOR="#555555">team-a</FONT>>]');
  });

  it("escapes every name, in DOT and in the SVG Graphviz renders from it", async () => {
    const odd = 'we"b <&> \\';
    const dc = 'd"c<1>&';
    const upstream = {
      destinationName: odd,
      datacenter: "dc2",
      localBindPort: 9000,
      meshGateway: { mode: "local" as const },
    };
    const mesh: Mesh = {
      datacenters: [{ name: dc }, { name: "dc2" }],
      gateways: [{ datacenter: dc, address: '<gw "1">' }, { datacenter: "dc2" }],
      services: [
        {
          name: odd,
          datacenter: dc,
          port: 1,
          connect: { sidecarService: { proxy: { upstreams: [upstream] } } },
        },
        { name: odd, datacenter: "dc2", port: 1, connect: { sidecarService: {} } },
      ],
    };
    const dot = diagram(mesh);
    // Ids are URI-encoded inside their quotes; labels are HTML-escaped.
    expect(dot).toContain(`"source:${encodeURIComponent(dc)}/default/default/${encodeURIComponent(odd)}"`);
    expect(dot).toContain("we&quot;b &lt;&amp;&gt; \\");
    expect(dot).toContain("<B>d&quot;c&lt;1&gt;&amp;</B>");
    expect(dot).toContain("<B>LAN</B> &lt;gw &quot;1&quot;&gt;:8443");
    const svg = await renderDiagramSvg(dot);
    const entities: Record<string, string> = { quot: '"', lt: "<", gt: ">", amp: "&", "#39": "'", "#45": "-" };
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
      m[1].replace(/&([#\w]+);/g, (_, e: string) => entities[e]),
    );
    expect(texts.filter((t) => t === odd)).toHaveLength(2);
    expect(texts).toContain(dc);
    expect(texts).toContain(' <gw "1">:8443');
  });
});
