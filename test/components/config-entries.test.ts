import * as consul from "@pulumi/consul";
import { configEntryJson } from "../../components/plans/config-entry-json";
import { ProxyDefaults } from "../../components/proxy-defaults";
import { ServiceDefaults } from "../../components/service-defaults";
import { problemPaths } from "../support/problem-paths";
import { setupMocks, type MockHarness } from "../support/pulumi-mocks";

const ENTRY = "consul:index/configEntry:ConfigEntry";

describe("ProxyDefaults and ServiceDefaults (Pulumi mocks)", () => {
  let mocks: MockHarness;
  beforeEach(async () => {
    mocks = await setupMocks();
  });

  test("proxy-defaults global, mode local: the seed's entry as exact configJson", async () => {
    const pd = new ProxyDefaults("global-gateways", { meshGateway: { mode: "local" } });
    await mocks.settle();
    const entry = mocks.get("global-gateways-entry");
    expect(entry.type).toBe(ENTRY);
    expect(entry.inputs).toEqual({
      kind: "proxy-defaults",
      name: "global",
      configJson: '{"TransparentProxy":{},"MeshGateway":{"Mode":"local"},"Expose":{},"AccessLogs":{}}',
    });
    expect(entry.parent).toBe(mocks.get("global-gateways", "consul-mesh:index:ProxyDefaults").urn);
    expect(pd.configJson).toBe('{"TransparentProxy":{},"MeshGateway":{"Mode":"local"},"Expose":{},"AccessLogs":{}}');
  });

  test('configJson is complete and stable: no mode is written as Mode "", Config keys are sorted', async () => {
    new ProxyDefaults("a", {});
    new ProxyDefaults("b", { meshGateway: { mode: "none" }, config: { z: 1, a: { y: 2, b: 3 } } });
    await mocks.settle();
    expect(mocks.get("a-entry").inputs.configJson).toBe(
      '{"TransparentProxy":{},"MeshGateway":{},"Expose":{},"AccessLogs":{}}',
    );
    expect(mocks.get("b-entry").inputs.configJson).toBe(
      '{"Config":{"a":{"b":3,"y":2},"z":1},"TransparentProxy":{},"MeshGateway":{"Mode":"none"},"Expose":{},"AccessLogs":{}}',
    );
    // The same entry always renders the same text, whatever order its fields were written in.
    expect(
      configEntryJson({
        kind: "proxy-defaults",
        name: "global",
        config: { b: 1, a: 2 },
        meshGateway: { mode: "remote" },
      }),
    ).toBe(
      configEntryJson({
        meshGateway: { mode: "remote" },
        config: { a: 2, b: 1 },
        name: "global",
        kind: "proxy-defaults",
      }),
    );
  });

  test("service-defaults for web, mode local, written through the given provider", async () => {
    const provider = new consul.Provider("dc1-provider", { address: "127.0.0.1:8500", datacenter: "dc1" });
    new ServiceDefaults("web-defaults", { service: "web", meshGateway: { mode: "local" } }, { provider });
    new ServiceDefaults("api-defaults", { service: "api", protocol: "http" });
    await mocks.settle();
    const web = mocks.get("web-defaults-entry");
    expect(web.inputs).toEqual({
      kind: "service-defaults",
      name: "web",
      configJson: '{"TransparentProxy":{},"MeshGateway":{"Mode":"local"},"Expose":{}}',
    });
    expect(web.options.provider.startsWith(mocks.get("dc1-provider").urn)).toBe(true);
    expect(mocks.get("api-defaults-entry").inputs.configJson).toBe(
      '{"Protocol":"http","TransparentProxy":{},"MeshGateway":{},"Expose":{}}',
    );
  });

  test("refuses a proxy-defaults not named global and an invalid mode, naming the fields", async () => {
    expect(
      problemPaths(() => new ProxyDefaults("x", { name: "web", meshGateway: { mode: "sometimes" as "local" } })),
    ).toEqual(["args.name", "args.meshGateway.mode"]);
    expect(() => new ProxyDefaults("y", { name: "default" })).toThrow(
      /args\.name: proxy-defaults must be named "global"/,
    );
    await mocks.settle();
    expect(mocks.resources).toHaveLength(0);
  });

  test("refuses a service-defaults with a bad service name or mode, naming the fields", () => {
    expect(
      problemPaths(
        () => new ServiceDefaults("x", { service: "Web Frontend", meshGateway: { mode: "LOCAL" as "local" } }),
      ),
    ).toEqual(["args.service", "args.meshGateway.mode"]);
  });
});
