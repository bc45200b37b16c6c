import {
  CONSUL_IMAGE,
  DEFAULT_ENVOY_IMAGE,
  dockerHostAddress,
  readStackConfig,
  StackConfigError,
} from "../../components";
import { isImageName, isImageReference } from "../../components/images/image-reference";

const config = (values: Record<string, string>) => ({ get: (key: string) => values[key] });

describe("readStackConfig", () => {
  test("nothing set: the proven Consul image, Envoy 1.26, consul routes, mode local, ACLs, TLS and gossip encryption on, port 8080", () => {
    expect(readStackConfig(config({}))).toEqual({
      consulImage: CONSUL_IMAGE,
      gatewayImage: undefined,
      gatewayImageContext: undefined,
      gatewayBaseImage: undefined,
      sidecarImage: undefined,
      envoyImage: DEFAULT_ENVOY_IMAGE,
      appImage: undefined,
      routeSource: "consul",
      meshGatewayMode: "local",
      acl: true,
      tls: true,
      gossipEncryption: true,
      wanFederation: "gossip",
      demoPort: 8080,
      trustDomain: undefined,
    });
    expect(CONSUL_IMAGE).toBe("hashicorp/consul:1.16.3");
  });

  test("every key read as given", () => {
    expect(
      readStackConfig(
        config({
          consulImage: "registry.example.com:5000/consul:1.16.3",
          gatewayImage: "consul-mesh/sni-gateway:0.1.0",
          sidecarImage: "consul-mesh/sidecar@sha256:" + "a".repeat(64),
          appImage: "node:20",
          routeSource: "file",
          meshGatewayMode: "remote",
          acl: "false",
          tls: "false",
          gossipEncryption: "false",
          wanFederation: "mesh-gateways",
          demoPort: "18080",
          trustDomain: "5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul",
        }),
      ),
    ).toMatchObject({
      routeSource: "file",
      meshGatewayMode: "remote",
      acl: false,
      tls: false,
      gossipEncryption: false,
      wanFederation: "mesh-gateways",
      demoPort: 18080,
      trustDomain: "5fcd4b81-a2ca-405a-ac62-0fac602c1949.consul",
    });
  });

  test("bad values: one error naming every key, with what is accepted", () => {
    let error: unknown;
    try {
      readStackConfig(
        config({
          consulImage: "hashicorp/consul 1.16",
          meshGatewayMode: "sideways",
          acl: "maybe",
          tls: "off",
          gossipEncryption: "no",
          wanFederation: "vpn",
          routeSource: "etcd",
          demoPort: "80000",
          gatewayImage: "consul-mesh/sni-gateway",
          gatewayBaseImage: "node:20",
          sidecarImage: "x/y",
          envoyImage: "envoyproxy/envoy:v1.26.8",
          gatewayImageContext: " ",
          trustDomain: "example.consul",
        }),
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StackConfigError);
    const e = error as StackConfigError;
    expect(e.code).toBe("E_STACK_CONFIG");
    expect(e.problems.map((p) => p.key).sort()).toEqual(
      // gatewayImageContext twice: empty, and set beside a published gatewayImage.
      [
        "acl",
        "consulImage",
        "demoPort",
        "envoyImage",
        "gatewayBaseImage",
        "gatewayImageContext",
        "gatewayImageContext",
        "gossipEncryption",
        "meshGatewayMode",
        "routeSource",
        "tls",
        "wanFederation",
        "trustDomain",
      ].sort(),
    );
    expect(e.message).toContain('config meshGatewayMode: "sideways" is not one of local, remote, none');
    expect(e.message).toContain('config consulImage: "hashicorp/consul 1.16" is not an image reference');
    expect(e.message).toContain("config gatewayBaseImage: builds an image, but gatewayImage names a published one");
    expect(e.message).toContain('config tls: "off" is not one of true, false');
    expect(e.message).toContain('config trustDomain: "example.consul" is not "<uuid>.consul" in lower case');
  });
});

describe("dockerHosts and hostAddresses", () => {
  const read = (values: Record<string, string>) => readStackConfig({ get: (key) => values[key] });

  test("read as JSON objects from datacenter name to a value", () => {
    const config = read({
      dockerHosts: '{"dc1":"unix:///run/one.sock","dc2":"tcp://10.0.0.6:2376"}',
      hostAddresses: '{"dc1":"10.0.0.5"}',
    });
    expect(config.dockerHosts).toEqual({ dc1: "unix:///run/one.sock", dc2: "tcp://10.0.0.6:2376" });
    expect(config.hostAddresses).toEqual({ dc1: "10.0.0.5" });
    expect(read({}).dockerHosts).toBeUndefined();
  });

  test("bad values, each named by its key and entry", () => {
    let error: StackConfigError | undefined;
    try {
      read({ dockerHosts: '{"dc1":"docker.sock","bad name":"unix:///x","dc2":""}', hostAddresses: "[1]" });
    } catch (e) {
      error = e as StackConfigError;
    }
    expect(error?.problems.map((p) => p.key)).toEqual([
      "dockerHosts.dc1",
      "dockerHosts",
      "dockerHosts.dc2",
      "hostAddresses",
    ]);
    expect(() => read({ dockerHosts: "{" })).toThrow(/config dockerHosts: is not JSON/);
  });

  test("the address a DOCKER_HOST names: tcp and ssh hosts, none for a socket", () => {
    expect(dockerHostAddress("tcp://10.0.0.5:2376")).toBe("10.0.0.5");
    expect(dockerHostAddress("ssh://me@box.example:22")).toBe("box.example");
    expect(dockerHostAddress("ssh://box")).toBe("box");
    expect(dockerHostAddress("tcp://[fd00::5]:2376")).toBe("fd00::5");
    expect(dockerHostAddress("unix:///var/run/docker.sock")).toBeUndefined();
    expect(dockerHostAddress("npipe:////./pipe/docker_engine")).toBeUndefined();
  });
});

describe("image references", () => {
  test.each([
    ["hashicorp/consul:1.16.3", true, true],
    ["registry.example.com:5000/team/consul:1.16.3", true, true],
    ["localhost/consul", true, true],
    ["consul@sha256:" + "0".repeat(64), true, false],
    ["Hashicorp/consul", false, false],
    ["consul 1.16", false, false],
    ["", false, false],
  ])("%j: reference %s, name %s", (value, reference, name) => {
    expect(isImageReference(value)).toBe(reference);
    expect(isImageName(value)).toBe(name);
  });
});
