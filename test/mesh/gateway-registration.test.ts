import { toGatewayRegistration } from "../../mesh";

describe("toGatewayRegistration", () => {
  it("renders exactly what consul connect envoy -gateway=mesh -register sends", () => {
    expect(
      JSON.stringify(toGatewayRegistration({ address: "10.0.0.5", wanAddress: { address: "198.51.100.7" } })),
    ).toBe(
      JSON.stringify({
        Kind: "mesh-gateway",
        ID: "mesh-gateway",
        Name: "mesh-gateway",
        Address: "10.0.0.5",
        Port: 8443,
        TaggedAddresses: { lan: { Address: "10.0.0.5", Port: 8443 }, wan: { Address: "198.51.100.7", Port: 8443 } },
        Proxy: { Config: {} },
        Check: {
          Name: "mesh-gateway listening",
          TCP: "10.0.0.5:8443",
          Interval: "10s",
          DeregisterCriticalServiceAfter: "6h",
        },
      }),
    );
  });

  it("uses the given name, ID, ports, LAN address and proxy config", () => {
    const reg = toGatewayRegistration({
      name: "gw",
      id: "gw-1",
      address: "10.0.0.5",
      port: 9443,
      lanAddress: { address: "10.1.0.5", port: 19443 },
      wanAddress: { address: "gw.example.com", port: 443 },
      proxyConfig: { connect_timeout_ms: 5000 },
    });
    expect(reg).toMatchObject({
      ID: "gw-1",
      Name: "gw",
      Port: 9443,
      TaggedAddresses: { lan: { Address: "10.1.0.5", Port: 19443 }, wan: { Address: "gw.example.com", Port: 443 } },
      Proxy: { Config: { connect_timeout_ms: 5000 } },
      Check: { TCP: "10.1.0.5:19443" },
    });
  });

  it("marks a gateway that carries the servers' traffic as -expose-servers does, and only then", () => {
    const exposed = toGatewayRegistration({ address: "10.0.0.5", exposeServers: true });
    expect(exposed.Meta).toEqual({ "consul-wan-federation": "1" });
    expect(Object.keys(exposed).indexOf("Meta")).toBe(Object.keys(exposed).indexOf("TaggedAddresses") + 1);
    expect(toGatewayRegistration({ address: "10.0.0.5" })).not.toHaveProperty("Meta");
  });

  it("leaves out the WAN address when none is given", () => {
    expect(toGatewayRegistration({ address: "10.0.0.5" }).TaggedAddresses).toEqual({
      lan: { Address: "10.0.0.5", Port: 8443 },
    });
  });

  it("checks a wildcard bind on loopback and brackets IPv6", () => {
    expect(toGatewayRegistration({ address: "0.0.0.0" }).Check.TCP).toBe("127.0.0.1:8443");
    expect(toGatewayRegistration({ address: "::" }).Check.TCP).toBe("[::1]:8443");
    expect(toGatewayRegistration({ address: "fd00::5" }).Check.TCP).toBe("[fd00::5]:8443");
  });

  it("copies the proxy config", () => {
    const config = { a: 1 };
    toGatewayRegistration({ address: "10.0.0.5", proxyConfig: config }).Proxy.Config.b = 2;
    expect(config).toEqual({ a: 1 });
  });
});
