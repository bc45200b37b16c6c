import http from "node:http";
import type { AddressInfo } from "node:net";
import { consulBaseUrl } from "../../consul/settings";
import {
  agentBaseUrl,
  ConsulApiError,
  deregisterService,
  isTransientFailure,
  readService,
  registerService,
} from "../../consul/agent";
import { toServiceRegistration, type MeshService } from "../../mesh";
import { ConsulDouble } from "../support/consul-double";

const web: MeshService = {
  name: "web-sidecar-proxy",
  datacenter: "dc1",
  kind: "connect-proxy",
  port: 8181,
  proxy: {
    destinationServiceName: "web",
    meshGateway: { mode: "remote" },
    upstreams: [{ destinationName: "api", datacenter: "dc2", localBindPort: 10000 }],
  },
};

describe("consul agent client against the Consul contract double", () => {
  let consul: ConsulDouble;
  afterEach(async () => consul?.close());

  test("registers, reads and deregisters a connect proxy with its upstreams", async () => {
    consul = await ConsulDouble.start({ federatedDatacenters: ["dc2"] });
    const body = toServiceRegistration(web);
    await registerService({ address: consul.url }, body);

    const put = consul.requests.find((r) => r.method === "PUT" && r.path === "/v1/agent/service/register");
    expect(put?.body).toEqual(body);
    const held = await readService({ address: consul.url }, "web-sidecar-proxy");
    expect(held).toMatchObject({
      ID: "web-sidecar-proxy",
      Service: "web-sidecar-proxy",
      Kind: "connect-proxy",
      Port: 8181,
      Proxy: {
        DestinationServiceName: "web",
        MeshGateway: { Mode: "remote" },
        Upstreams: [{ DestinationName: "api", Datacenter: "dc2", LocalBindPort: 10000 }],
      },
    });

    await deregisterService({ address: consul.url }, "web-sidecar-proxy");
    expect(consul.requests.at(-1)).toMatchObject({
      method: "PUT",
      path: "/v1/agent/service/deregister/web-sidecar-proxy",
    });
    expect(await readService({ address: consul.url }, "web-sidecar-proxy")).toBeUndefined();
    expect(consul.agentServices()).toEqual({});
  });

  test("deregistering an unknown service counts as done (delete is idempotent)", async () => {
    consul = await ConsulDouble.start();
    await expect(deregisterService({ address: consul.url }, "never-registered")).resolves.toBeUndefined();
    expect(consul.requests.at(-1)?.path).toBe("/v1/agent/service/deregister/never-registered");
  });

  test("sends X-Consul-Token; without it Consul's 403 becomes an error naming the call", async () => {
    consul = await ConsulDouble.start({ tokens: ["s3cret"] });
    const body = toServiceRegistration({ name: "api", datacenter: "dc1", port: 8080, connect: { sidecarService: {} } });
    const denied = registerService({ address: consul.url }, body);
    await expect(denied).rejects.toBeInstanceOf(ConsulApiError);
    await expect(denied).rejects.toMatchObject({
      status: 403,
      method: "PUT",
      path: "/v1/agent/service/register",
      code: "E_CONSUL_HTTP_STATUS",
    });
    await expect(denied).rejects.toThrow(/PUT \/v1\/agent\/service\/register failed with HTTP 403: Permission denied/);

    await registerService({ address: consul.url, token: "s3cret" }, body);
    expect(consul.requests.at(-1)?.token).toBe("s3cret");
    expect(Object.keys(consul.agentServices()).sort()).toEqual(["api", "api-sidecar-proxy"]);
  });

  test("a rejected body surfaces Consul's 400 message", async () => {
    consul = await ConsulDouble.start();
    const bad = { Name: "web-sidecar-proxy", Kind: "connect-proxy", Port: 8181 };
    await expect(registerService({ address: consul.url }, bad)).rejects.toThrow(
      /HTTP 400: [\s\S]*DestinationServiceName/,
    );
  });

  test("a silent agent fails after the time limit instead of hanging", async () => {
    consul = await ConsulDouble.start();
    consul.injectFault({ method: "PUT", pathPrefix: "/v1/agent/service/register", status: 0, delayMs: 600 });
    const slow = registerService({ address: consul.url, timeoutMs: 100 }, { Name: "x", Port: 1 });
    await expect(slow).rejects.toMatchObject({ status: 0, code: "E_CONSUL_TIMEOUT" });
    await expect(slow).rejects.toThrow(/no complete response within 100 ms/);
    // Let the double's held request finish so nothing is left running.
    await new Promise((resolve) => setTimeout(resolve, 650));
  });

  test("the time limit is wall-clock: an agent that trickles its answer fails at the limit", async () => {
    const trickle = http.createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write("[");
      let sent = 0;
      const tick = setInterval(() => {
        if (++sent === 20 || res.destroyed) {
          clearInterval(tick);
          res.end("]");
        } else res.write(" ");
      }, 50);
    });
    await new Promise<void>((resolve) => trickle.listen(0, "127.0.0.1", resolve));
    try {
      const address = `127.0.0.1:${(trickle.address() as AddressInfo).port}`;
      const started = Date.now();
      await expect(readService({ address, timeoutMs: 300 }, "web")).rejects.toMatchObject({
        status: 0,
        code: "E_CONSUL_TIMEOUT",
      });
      // An idle timeout would wait for the whole 1 s answer: every byte resets it.
      expect(Date.now() - started).toBeLessThan(900);
    } finally {
      trickle.closeAllConnections();
      await new Promise((resolve) => trickle.close(resolve));
    }
  });

  test("an unreachable agent is an error, not a hang", async () => {
    consul = await ConsulDouble.start();
    const url = consul.url;
    await consul.close();
    await expect(readService({ address: url }, "web")).rejects.toBeInstanceOf(ConsulApiError);
    await expect(readService({ address: url }, "web")).rejects.toMatchObject({ code: "E_CONSUL_UNREACHABLE" });
  });

  test("retries transient failures within the budget; a denied token is not retried", async () => {
    consul = await ConsulDouble.start({ tokens: ["s3cret"] });
    const body = toServiceRegistration({ name: "api", datacenter: "dc1", port: 8080 });
    consul.injectFault({ method: "PUT", pathPrefix: "/v1/agent/service/register", status: 503, count: 3 });
    await registerService({ address: consul.url, token: "s3cret", retryForMs: 5000, retryDelayMs: 10 }, body);
    expect(consul.requests.filter((r) => r.path === "/v1/agent/service/register")).toHaveLength(4);
    expect(Object.keys(consul.agentServices())).toEqual(["api"]);

    const before = consul.requests.length;
    // Anonymous, so Permission denied (an unknown token is "ACL not found", retried as not yet replicated).
    await expect(
      registerService({ address: consul.url, retryForMs: 5000, retryDelayMs: 10 }, body),
    ).rejects.toMatchObject({ status: 403 });
    expect(consul.requests.length - before).toBe(1);

    consul.injectFault({ method: "PUT", pathPrefix: "/v1/agent/service/deregister/", status: 500, count: 100 });
    const gaveUp = deregisterService(
      { address: consul.url, token: "s3cret", retryForMs: 200, retryDelayMs: 20 },
      "api",
    );
    await expect(gaveUp).rejects.toMatchObject({ status: 500 });
    const attempts = consul.requests.filter((r) => r.path === "/v1/agent/service/deregister/api").length;
    expect(attempts).toBeGreaterThan(1);
    expect(attempts).toBeLessThan(10);
  });

  test("transient: no answer, HTTP 5xx and ACL not found; final: permission denied, bad request", () => {
    const error = (status: number, body: string) =>
      new ConsulApiError("PUT", "/v1/agent/service/register", status, body);
    expect(isTransientFailure(error(0, "connect ECONNREFUSED 127.0.0.1:8500"))).toBe(true);
    expect(isTransientFailure(error(500, "No cluster leader"))).toBe(true);
    expect(isTransientFailure(error(403, "ACL not found"))).toBe(true);
    expect(
      isTransientFailure(
        error(403, "Permission denied: token with AccessorID 'x' lacks permission 'service:write' on \"web\""),
      ),
    ).toBe(false);
    expect(isTransientFailure(error(400, "Invalid service address"))).toBe(false);
    expect(isTransientFailure(error(404, "Unknown service ID"))).toBe(false);
  });

  test("addresses are read like CONSUL_HTTP_ADDR", () => {
    expect(agentBaseUrl("127.0.0.1:8500").href).toBe("http://127.0.0.1:8500/");
    expect(agentBaseUrl("https://consul.example:8501").href).toBe("https://consul.example:8501/");
    expect(() => agentBaseUrl("ftp://x")).toThrow(/http or https/);
  });
});

describe("agentBaseUrl, the serialized provider's copy of consulBaseUrl", () => {
  test.each([
    "127.0.0.1:8500",
    "http://a:1",
    "https://consul.example:8501",
    "http://[::1]:8500",
    "https://c.example/prefix/",
  ])("%s: the same URL as consulBaseUrl", (address) => {
    expect(agentBaseUrl(address).href).toBe(consulBaseUrl(address).href);
  });

  test.each(["unix:///run/consul.sock", "ftp://a:21"])("%s: refused by both", (address) => {
    expect(() => agentBaseUrl(address)).toThrow();
    expect(() => consulBaseUrl(address)).toThrow();
  });

  test("the refusal shows no credentials, as consulBaseUrl's", () => {
    expect(() => agentBaseUrl("ftp://u:secret@a:21")).toThrow('"ftp://[redacted]@a:21"');
    expect(() => consulBaseUrl("ftp://u:secret@a:21")).toThrow('"ftp://[redacted]@a:21"');
  });
});
