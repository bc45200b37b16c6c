import * as pulumi from "@pulumi/pulumi";
import { ConnectService } from "../../components/connect-service";
import { Datacenter } from "../../components/datacenter";
import { toServiceRegistration, type MeshService } from "../../mesh";
import { problemPaths } from "../support/problem-paths";
import { setupMocks, type MockHarness } from "../support/pulumi-mocks";

const REGISTRATION = "pulumi-nodejs:dynamic:AgentServiceRegistration";

/** The seed's "service instance, remote" example, connect-proxy form. */
const connectProxy: MeshService = {
  name: "web-sidecar-proxy",
  datacenter: "primary",
  kind: "connect-proxy",
  port: 8181,
  proxy: {
    destinationServiceName: "web",
    meshGateway: { mode: "remote" },
    upstreams: [{ destinationName: "api", datacenter: "secondary", localBindPort: 10000 }],
  },
};

describe("ConnectService (Pulumi mocks)", () => {
  let mocks: MockHarness;
  beforeEach(async () => {
    mocks = await setupMocks();
  });

  test("registers the connect-proxy with the datacenter's agent, body from toServiceRegistration", async () => {
    const dc = new Datacenter("primary", { datacenter: { name: "primary" } });
    const svc = new ConnectService("web-proxy", { service: connectProxy, datacenter: dc });
    await mocks.settle();
    const reg = mocks.get("web-proxy-registration");
    expect(reg.type).toBe(REGISTRATION);
    expect(reg.parent).toBe(mocks.get("web-proxy", "consul-mesh:index:ConnectService").urn);
    expect(reg.inputs.address).toBe("https://127.0.0.1:8500");
    expect(reg.inputs.serviceId).toBe("web-sidecar-proxy");
    expect(reg.inputs.registration).toEqual(toServiceRegistration(connectProxy));
    expect(reg.inputs.registration).toEqual({
      Name: "web-sidecar-proxy",
      Kind: "connect-proxy",
      Port: 8181,
      Proxy: {
        DestinationServiceName: "web",
        MeshGateway: { Mode: "remote" },
        Upstreams: [{ DestinationName: "api", Datacenter: "secondary", LocalBindPort: 10000 }],
      },
    });
    // ACLs on by default: registered with the datacenter's management token, a secret.
    expect(reg.inputs.token).toBe("generated-secret-of-primary-management-token");
    expect(reg.secretInputs).toContain("token");
    expect(reg.options.dependencies).toContain(mocks.get("primary-server-0").urn);
    expect(svc.serviceId).toBe("web-sidecar-proxy");
  });

  test("with ACLs the datacenter's management token is used, and stays secret", async () => {
    const dc = new Datacenter("primary", {
      datacenter: { name: "primary", acl: { enabled: true } },
      initialManagementToken: "mgmt",
    });
    new ConnectService("web", { service: { ...connectProxy, id: "web-proxy-1" }, datacenter: dc });
    await mocks.settle();
    const reg = mocks.get("web-registration");
    expect(reg.inputs.token).toBe("mgmt");
    expect(reg.secretInputs).toEqual(["token"]);
    expect(reg.inputs.serviceId).toBe("web-proxy-1");
  });

  test("an explicit agent and token, without a Datacenter component", async () => {
    new ConnectService("api", {
      service: { name: "api", datacenter: "dc2", port: 8080, connect: { sidecarService: { port: 21000 } } },
      agentAddress: "https://consul.dc2.example:8501",
      token: pulumi.secret("svc-token"),
    });
    await mocks.settle();
    const reg = mocks.get("api-registration");
    expect(reg.inputs).toMatchObject({
      address: "https://consul.dc2.example:8501",
      token: "svc-token",
      registration: { Name: "api", Port: 8080, Connect: { SidecarService: { Port: 21000 } } },
    });
    expect(reg.secretInputs).toEqual(["token"]);
  });

  test("every problem of the service is reported at once, by field, before anything is created", async () => {
    const dc = new Datacenter("primary", { datacenter: { name: "primary" } });
    await mocks.settle();
    const before = mocks.resources.length;
    const paths = problemPaths(
      () =>
        new ConnectService("bad", {
          datacenter: dc,
          service: {
            name: "web",
            datacenter: "secondary",
            kind: "connect-proxy",
            port: 70000,
            proxy: {
              meshGateway: { mode: "far" as "local" },
              upstreams: [
                { destinationName: "api", localBindPort: 10000, meshGateway: { mode: "remote" } },
                { destinationName: "db", localBindPort: 10000 },
              ],
            },
          },
        }),
    );
    expect(paths).toEqual(
      expect.arrayContaining([
        "args.service.port",
        "args.service.proxy.destinationServiceName",
        "args.service.proxy.meshGateway.mode",
        "args.service.proxy.upstreams[1].localBindPort",
        "args.service.datacenter",
      ]),
    );
    expect(() => new ConnectService("lost", { service: connectProxy })).toThrow(
      /args\.agentAddress: give the agent address/,
    );
    await mocks.settle();
    expect(mocks.resources).toHaveLength(before);
  });
});
