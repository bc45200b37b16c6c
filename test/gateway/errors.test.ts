/**
 * The gateway's errors: stable codes, the field as data, and the options startGateway refuses
 * (each a GatewayConfigError naming the option, never a bare Error).
 */
import { startGateway, type GatewayOptions } from "../../gateway";
import { readConsulSettings } from "../../consul/settings";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CliError, GatewayConfigError, GatewayInternalError, RoutesFileError } from "../../gateway/errors";
import { ConsulError, ConsulSettingError } from "../../consul/errors";
import { FileRouteSource } from "../../gateway/sources/file-route-source";
import { StaticRouteSource } from "../../gateway/sources/static-route-source";
import { ConsulAddressError } from "../../consul/errors";

const TD = "11111111-2222-3333-4444-555555555555.consul";
const routes = { datacenter: "dc1", trustDomain: TD, services: [], gateways: [] };

describe("error classes", () => {
  test.each([
    [new CliError("--listen", "required"), "CliError", "E_CLI_USAGE", "--listen: required"],
    [new GatewayConfigError("listen", "required"), "GatewayConfigError", "E_GATEWAY_CONFIG", "listen: required"],
  ])("%s: name, code, field and reason as data", (error, name, code, message) => {
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name, code, field: message.split(":")[0], reason: "required", message });
  });

  test("GatewayInternalError: what was handled and what was thrown, as data", () => {
    const cause = new TypeError("x is undefined");
    const error = new GatewayInternalError("GET /v1/catalog/services", cause);
    expect(error).toMatchObject({
      name: "GatewayInternalError",
      code: "E_GATEWAY_INTERNAL",
      where: "GET /v1/catalog/services",
      cause,
      message: "GET /v1/catalog/services: the gateway failed to handle the answer: x is undefined",
    });
  });

  test("ConsulError keeps its code and status", () => {
    const error = new ConsulError("E_CONSUL_HTTP_STATUS", "GET /v1/x: HTTP 500", 500);
    expect(error).toMatchObject({
      name: "ConsulError",
      code: "E_CONSUL_HTTP_STATUS",
      status: 500,
      message: "GET /v1/x: HTTP 500",
    });
  });
});

describe("startGateway refuses inconsistent options with a GatewayConfigError naming the option", () => {
  const base: GatewayOptions = {
    datacenter: "dc1",
    listen: [{ host: "127.0.0.1", port: 0 }],
    routes: { static: routes },
    logLevel: "silent",
  };

  test.each<[string, Partial<GatewayOptions>]>([
    ["listen", { listen: [] }],
    ["routes.static.datacenter", { routes: { static: { ...routes, datacenter: "dc2" } } }],
    ["register", { register: { address: "127.0.0.1" } }],
    [
      "routes",
      { routes: { static: { ...routes, services: [{ name: "web", endpoints: [{ address: "a", port: 0 }] }] } } },
    ],
  ])("%s", async (field, change) => {
    const refused = startGateway({ ...base, ...change });
    await expect(refused).rejects.toBeInstanceOf(GatewayConfigError);
    await expect(refused).rejects.toMatchObject({ code: "E_GATEWAY_CONFIG", field });
  });

  test("an invalid static table names the offending field in its reason", () => {
    const error = (() => {
      try {
        new StaticRouteSource({ ...routes, services: [{ name: "web", endpoints: [{ address: "a", port: 70_000 }] }] });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({ code: "E_GATEWAY_CONFIG", field: "routes" });
    expect((error as GatewayConfigError).reason).toMatch(/^services\[0\]\.endpoints\[0\]\.port: /);
  });

  test("an agent address that is not a URL or host:port: the mesh layer's ConsulAddressError, without credentials", async () => {
    const refused = startGateway({ ...base, routes: { consul: { address: "ftp://user:secret@consul:21" } } });
    await expect(refused).rejects.toBeInstanceOf(ConsulAddressError);
    await expect(refused).rejects.toMatchObject({
      code: "E_CONSUL_ADDRESS",
      message: expect.not.stringContaining("secret"),
    });
    // Without a scheme too.
    expect(new ConsulAddressError("user:secret@consul:8500").message).toBe(
      'Consul address "[redacted]@consul:8500" is not http(s)://host:port or host:port',
    );
  });
});

test("a routes file that cannot be used: a RoutesFileError with the file and the reason as data", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "routes-error-"));
  const file = path.join(dir, "routes.json");
  await fs.writeFile(file, JSON.stringify({ ...routes, datacenter: "dc2" }));
  const source = new FileRouteSource({ path: file, datacenter: "dc1", pollIntervalMs: 0 });
  const errors: Error[] = [];
  try {
    await source.start({ onTable: () => undefined, onError: (error) => errors.push(error) });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RoutesFileError);
    expect(errors[0]).toMatchObject({
      code: "E_ROUTES_FILE",
      file,
      reason: `datacenter: "dc2" is not the gateway's datacenter "dc1"`,
      message: `routes file ${file}: datacenter: "dc2" is not the gateway's datacenter "dc1"`,
    });
    expect(source.status().lastError).toBe(errors[0].message);
  } finally {
    await source.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

describe("readConsulSettings", () => {
  test("an unreadable CA file: a ConsulSettingError naming CONSUL_CACERT, the file and the system's code", () => {
    expect(() => readConsulSettings({ CONSUL_CACERT: "/nonexistent/ca.pem" })).toThrow(ConsulSettingError);
    expect(() => readConsulSettings({ CONSUL_CACERT: "/nonexistent/ca.pem" })).toThrow(
      "CONSUL_CACERT: cannot read /nonexistent/ca.pem (ENOENT)",
    );
  });

  test("the environment as Consul's CLI reads it, and overrides that win over it", () => {
    expect(readConsulSettings({})).toMatchObject({ address: "127.0.0.1:8500", ssl: false, token: undefined });
    expect(
      readConsulSettings({ CONSUL_HTTP_ADDR: "c:8501", CONSUL_HTTP_SSL: "true", CONSUL_HTTP_TOKEN: "t" }),
    ).toMatchObject({
      address: "c:8501",
      ssl: true,
      token: "t",
    });
    expect(readConsulSettings({ CONSUL_HTTP_ADDR: "c:8501" }, { address: "d:8500", token: "u" })).toMatchObject({
      address: "d:8500",
      token: "u",
    });
  });
});
