import * as pulumi from "@pulumi/pulumi";
import {
  AgentServiceRegistration,
  agentServiceProvider,
  type AgentServiceRegistrationState,
} from "../../components/dynamic/agent-service-registration";
import { toGatewayRegistration, toServiceRegistration } from "../../mesh";
import { ConsulDouble } from "../support/consul-double";
import { setupMocks } from "../support/pulumi-mocks";

const sidecarForm = toServiceRegistration({
  name: "web",
  datacenter: "dc1",
  port: 8181,
  connect: {
    sidecarService: {
      proxy: {
        meshGateway: { mode: "remote" },
        upstreams: [{ destinationName: "api", datacenter: "dc2", localBindPort: 10000 }],
      },
    },
  },
}) as unknown as Record<string, unknown>;

describe("dynamic provider over the agent API (against the Consul contract double)", () => {
  let consul: ConsulDouble;
  afterEach(async () => consul?.close());

  const state = (overrides: Partial<AgentServiceRegistrationState> = {}): AgentServiceRegistrationState => ({
    address: consul.url,
    token: "tok-1",
    serviceId: "web",
    registration: sidecarForm,
    ...overrides,
  });

  test("create registers the service and its sidecar with the token; the ID is the service ID", async () => {
    consul = await ConsulDouble.start({ tokens: ["tok-1"], federatedDatacenters: ["dc2"] });
    const result = await agentServiceProvider.create(state());
    expect(result.id).toBe("web");
    expect(result.outs.registration).toEqual(sidecarForm);

    const put = consul.requests.filter((r) => r.path === "/v1/agent/service/register");
    expect(put).toHaveLength(1);
    expect(put[0]).toMatchObject({ method: "PUT", token: "tok-1", body: sidecarForm });
    const services = consul.agentServices();
    expect(Object.keys(services).sort()).toEqual(["web", "web-sidecar-proxy"]);
    expect(services["web-sidecar-proxy"]).toMatchObject({
      Kind: "connect-proxy",
      Proxy: {
        DestinationServiceName: "web",
        MeshGateway: { Mode: "remote" },
        Upstreams: [{ DestinationName: "api", Datacenter: "dc2", LocalBindPort: 10000 }],
      },
    });
  });

  test("update re-registers with the new body; the agent holds the new definition", async () => {
    consul = await ConsulDouble.start({ tokens: ["tok-1"] });
    await agentServiceProvider.create(state());
    const changed = JSON.parse(JSON.stringify(sidecarForm));
    changed.Connect.SidecarService.Proxy.MeshGateway.Mode = "local";
    changed.Connect.SidecarService.Proxy.Upstreams.push({ DestinationName: "db", LocalBindPort: 10001 });
    const result = await agentServiceProvider.update("web", state(), state({ registration: changed }));
    expect(result.outs.registration).toEqual(changed);
    const proxy = consul.agentServices()["web-sidecar-proxy"].Proxy as Record<string, unknown>;
    expect(proxy.MeshGateway).toEqual({ Mode: "local" });
    expect(proxy.Upstreams).toHaveLength(2);
    expect(consul.requests.filter((r) => r.path === "/v1/agent/service/register")).toHaveLength(2);
  });

  test("delete deregisters by ID (the sidecar goes with it) and tolerates a service already gone", async () => {
    consul = await ConsulDouble.start({ tokens: ["tok-1"] });
    await agentServiceProvider.create(state());
    await agentServiceProvider.delete("web", state());
    expect(consul.requests.at(-1)).toMatchObject({
      method: "PUT",
      path: "/v1/agent/service/deregister/web",
      token: "tok-1",
    });
    expect(consul.agentServices()).toEqual({});
    await expect(agentServiceProvider.delete("web", state())).resolves.toBeUndefined();
  });

  test("read: the registration as registered, drifted once changed by hand, gone once deregistered; diff then asks for an update", async () => {
    consul = await ConsulDouble.start({ tokens: ["tok-1"] });
    const created = await agentServiceProvider.create(state());
    const outs = created.outs as AgentServiceRegistrationState;
    // What the registration decides of the service, then of its inline sidecar.
    const [service, sidecar] = JSON.parse(outs.registeredDefinition as string);
    expect(service).toMatchObject({ Service: "web", Port: 8181 });
    expect(sidecar).toMatchObject({
      Kind: "connect-proxy",
      Destination: "web",
      Upstreams: [["service", "api", "", "dc2", "", 10000]],
    });
    expect(outs.liveDefinition).toBe(outs.registeredDefinition);
    const same = await agentServiceProvider.read("web", outs);
    expect(same).toEqual({ id: "web", props: outs });
    expect((await agentServiceProvider.diff("web", same.props as AgentServiceRegistrationState, state())).changes).toBe(
      false,
    );

    // Changed by hand: the sidecar re-registered with another port.
    const changed = JSON.parse(JSON.stringify(sidecarForm));
    changed.Connect.SidecarService.Port = 21999;
    await agentServiceProvider.update("web", state(), state({ registration: changed }));
    const drifted = (await agentServiceProvider.read("web", outs)).props as AgentServiceRegistrationState;
    expect(drifted.liveDefinition).not.toBe(outs.registeredDefinition);
    expect((await agentServiceProvider.diff("web", drifted, state())).changes).toBe(true);

    await agentServiceProvider.delete("web", state());
    expect(await agentServiceProvider.read("web", outs)).toEqual({});
  });

  test("a new version of the provider is an update, so that refresh and delete run the new code", async () => {
    consul = await ConsulDouble.start({ tokens: ["tok-1"] });
    const old = { ...state(), __provider: "old code" };
    const diff = await agentServiceProvider.diff("web", old, { ...state(), __provider: "new code" });
    expect(diff).toMatchObject({ changes: true, replaces: [] });
  });

  test("a mesh gateway registration round-trips with Kind, TaggedAddresses and Proxy.Config", async () => {
    consul = await ConsulDouble.start();
    const body = toGatewayRegistration({
      address: "10.250.1.20",
      lanAddress: { address: "10.250.1.20" },
      wanAddress: { address: "10.250.0.20" },
      proxyConfig: { connect_timeout_ms: 5000 },
    }) as unknown as Record<string, unknown>;
    await agentServiceProvider.create(state({ token: undefined, serviceId: "mesh-gateway", registration: body }));
    expect(consul.agentServices()["mesh-gateway"]).toMatchObject({
      Kind: "mesh-gateway",
      Port: 8443,
      Proxy: { Config: { connect_timeout_ms: 5000 } },
    });
    expect(consul.requests.at(-1)?.token).toBeUndefined();
  });

  test("errors from the agent fail the operation with Consul's message", async () => {
    consul = await ConsulDouble.start({ tokens: ["other"] });
    // A denied request is final: one attempt, whatever the retry budget.
    await expect(agentServiceProvider.create(state({ token: "" }))).rejects.toThrow(/HTTP 403: Permission denied/);
    expect(consul.requests.filter((r) => r.path === "/v1/agent/service/register")).toHaveLength(1);
    consul.injectFault({ method: "PUT", pathPrefix: "/v1/agent/service/deregister/", status: 500, count: 5 });
    await expect(agentServiceProvider.delete("web", state({ token: "other", retryForMs: 0 }))).rejects.toThrow(
      /HTTP 500/,
    );
  });

  test("a transient failure (HTTP 5xx) is retried within the budget, then the call succeeds", async () => {
    consul = await ConsulDouble.start({ tokens: ["tok-1"] });
    consul.injectFault({ method: "PUT", pathPrefix: "/v1/agent/service/register", status: 500, count: 1 });
    const result = await agentServiceProvider.create(state({ retryForMs: 10_000 }));
    expect(result.id).toBe("web");
    expect(consul.requests.filter((r) => r.path === "/v1/agent/service/register")).toHaveLength(2);
    expect(Object.keys(consul.agentServices()).sort()).toEqual(["web", "web-sidecar-proxy"]);
  });

  test("diff: same body (any key order) is no change; new body or token updates; new ID or agent replaces", async () => {
    consul = await ConsulDouble.start();
    const reordered = Object.fromEntries(Object.entries(sidecarForm).reverse());
    expect(await agentServiceProvider.diff("web", state(), state({ registration: reordered }))).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(
      await agentServiceProvider.diff("web", state(), state({ registration: { ...sidecarForm, Port: 9191 } })),
    ).toMatchObject({ changes: true, replaces: [] });
    expect(await agentServiceProvider.diff("web", state(), state({ token: "tok-2" }))).toMatchObject({
      changes: true,
      replaces: [],
    });
    // A new ID is registered before the old one goes; the same ID (perhaps on the same agent,
    // reached by another address) is deregistered first, or the deletion would remove the new one.
    expect(await agentServiceProvider.diff("web", state(), state({ serviceId: "web-2" }))).toEqual({
      changes: true,
      replaces: ["serviceId"],
      deleteBeforeReplace: false,
    });
    expect(await agentServiceProvider.diff("web", state(), state({ address: "http://127.0.0.1:1" }))).toEqual({
      changes: true,
      replaces: ["address"],
      deleteBeforeReplace: true,
    });
  });
});

describe("AgentServiceRegistration resource (Pulumi mocks)", () => {
  test("is a dynamic resource carrying a serialized provider; the token stays secret", async () => {
    const mocks = await setupMocks();
    const res = new AgentServiceRegistration("reg", {
      address: "http://127.0.0.1:8500",
      token: "tok",
      serviceId: "web",
      registration: sidecarForm,
    });
    await mocks.settle();
    const rec = mocks.get("reg");
    expect(rec.type).toBe("pulumi-nodejs:dynamic:AgentServiceRegistration");
    expect(typeof rec.inputs.__provider).toBe("string");
    expect(rec.inputs.__provider).toContain("registerService");
    expect(rec.inputs).toMatchObject({
      address: "http://127.0.0.1:8500",
      serviceId: "web",
      registration: sidecarForm,
      token: "tok",
    });
    expect(rec.secretInputs).toEqual(["token"]);
    expect(rec.options.additionalSecretOutputs).toContain("token");
    expect(await pulumi.isSecret((res as unknown as { token: pulumi.Output<string> }).token)).toBe(true);
  });

  test("the serialized provider captures no module of this package (a package's exports forbid requiring them)", async () => {
    // Installed from npm, this package sits in node_modules, where Pulumi serializes a captured
    // module as require("consul-mesh-gateway/dist/…"), which the package's "exports" refuse at
    // run time (ERR_PACKAGE_PATH_NOT_EXPORTED). So the provider and everything it calls must
    // live in one module; TypeScript names an imported module's binding `<module>_1`.
    const mocks = await setupMocks();
    new AgentServiceRegistration("reg", { address: "http://127.0.0.1:1", serviceId: "web", registration: sidecarForm });
    await mocks.settle();
    const text = mocks.get("reg").inputs.__provider as string;
    expect(text).not.toMatch(/\b[A-Za-z][A-Za-z0-9_]*_1\b/);
    // Nor its own module's `exports` (how TypeScript reads an exported const).
    expect(text).not.toMatch(/\bexports\s*:/);
    const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    for (const name of required) expect(name).toMatch(/^(node:)?(http|https)$/);
  });

  test("the serialized provider runs on its own, as Pulumi's dynamic provider host runs it", async () => {
    const mocks = await setupMocks();
    new AgentServiceRegistration("reg", { address: "http://127.0.0.1:1", serviceId: "web", registration: sidecarForm });
    await mocks.settle();
    const text = mocks.get("reg").inputs.__provider as string;
    const module = { exports: {} as { handler?: () => typeof agentServiceProvider } };
    new Function("exports", "require", "module", text)(module.exports, require, module);
    const provider = (module.exports.handler as () => typeof agentServiceProvider)();

    const consul = await ConsulDouble.start({ tokens: ["tok"] });
    try {
      const created = await provider.create({
        address: consul.url,
        token: "tok",
        serviceId: "web",
        registration: sidecarForm,
      });
      expect(created.id).toBe("web");
      expect(Object.keys(consul.agentServices()).sort()).toEqual(["web", "web-sidecar-proxy"]);
      await provider.delete("web", { address: consul.url, token: "tok", serviceId: "web", registration: sidecarForm });
      expect(consul.agentServices()).toEqual({});
      // Failures keep Consul's text: the provider host reports only the error's `message`.
      // (Anonymous: an unknown token would be "ACL not found", which is retried as not yet replicated.)
      const denied = provider.create({ address: consul.url, token: "", serviceId: "web", registration: sidecarForm });
      // (The serialized class extends the host's own Error, another realm than jest's: compare fields.)
      const failure = (await denied.catch((e: unknown) => e)) as { message?: string };
      expect(failure.message).toMatch(
        /^Consul PUT \/v1\/agent\/service\/register failed with HTTP 403: Permission denied/,
      );
      await expect(denied).rejects.toMatchObject({ code: "E_CONSUL_HTTP_STATUS", status: 403 });
    } finally {
      await consul.close();
    }
  });
});
