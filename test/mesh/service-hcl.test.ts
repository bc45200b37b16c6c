import { toServiceHcl } from "../../mesh";

describe("toServiceHcl", () => {
  it("renders every field in the documentation's order, two-space indented", () => {
    const hcl = toServiceHcl({
      name: "web-sidecar-proxy",
      id: "web-proxy-1",
      kind: "connect-proxy",
      namespace: "team-a",
      partition: "default",
      address: "10.0.0.7",
      port: 21000,
      tags: ["v1", "canary"],
      meta: { version: "1", "odd key": "x" },
      proxy: {
        destinationServiceName: "web",
        destinationServiceId: "web-1",
        localServicePort: 8080,
        meshGateway: { mode: "local" },
        upstreams: [
          {
            destinationName: "api",
            destinationNamespace: "ns2",
            destinationPartition: "p2",
            datacenter: "dc2",
            localBindAddress: "127.0.0.2",
            localBindPort: 10000,
          },
        ],
        config: { protocol: "http", limits: { max: 5 }, list: [1, 2] },
      },
    });
    expect(hcl).toBe(
      [
        "service {",
        '  name = "web-sidecar-proxy"',
        '  id = "web-proxy-1"',
        '  kind = "connect-proxy"',
        '  namespace = "team-a"',
        '  address = "10.0.0.7"',
        "  port = 21000",
        '  tags = ["v1", "canary"]',
        "  meta = {",
        '    version = "1"',
        '    "odd key" = "x"',
        "  }",
        "  proxy {",
        '    destination_service_name = "web"',
        '    destination_service_id = "web-1"',
        "    local_service_port = 8080",
        "    mesh_gateway {",
        '      mode = "local"',
        "    }",
        "    upstreams = [",
        "      {",
        '        destination_name = "api"',
        '        destination_namespace = "ns2"',
        '        destination_partition = "p2"',
        '        datacenter = "dc2"',
        '        local_bind_address = "127.0.0.2"',
        "        local_bind_port = 10000",
        "      }",
        "    ]",
        "    config = {",
        '      protocol = "http"',
        "      limits = {",
        "        max = 5",
        "      }",
        "      list = [1, 2]",
        "    }",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("renders the sidecar form with its port", () => {
    expect(toServiceHcl({ name: "api", port: 8080, connect: { sidecarService: { port: 21000 } } })).toBe(
      [
        "service {",
        '  name = "api"',
        "  port = 8080",
        "  connect {",
        "    sidecar_service {",
        "      port = 21000",
        "    }",
        "  }",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("omits a mesh_gateway block whose mode is not set, and renders empty upstreams", () => {
    const hcl = toServiceHcl({
      name: "p",
      kind: "connect-proxy",
      port: 1,
      proxy: { destinationServiceName: "x", meshGateway: { mode: "" }, upstreams: [] },
    });
    expect(hcl).not.toContain("mesh_gateway");
    expect(hcl).toContain("    upstreams = []\n");
  });

  it("escapes quotes and interpolation in strings", () => {
    const hcl = toServiceHcl({ name: "web", port: 1, meta: { q: 'say "hi"', t: "${var.x} %{if}" } });
    expect(hcl).toContain('q = "say \\"hi\\""');
    expect(hcl).toContain('t = "\\u0024{var.x} \\u0025{if}"');
  });

  it("is deterministic", () => {
    const def = { name: "web", port: 1, meta: { b: "2", a: "1" } };
    expect(toServiceHcl(def)).toBe(toServiceHcl({ ...def }));
  });
});
