/**
 * `ExistingDatacenter`: a Consul datacenter this library did not create, given its HTTP address,
 * token and CA, so that `MeshGateway`, the config entries and `ConnectService` add to it. It
 * holds a `consul.Provider` for it and, at every preview and update, checks that the datacenter
 * answers as given (the address, the CA, the token), failing with an error naming the datacenter
 * rather than letting the first resource hang or fail on a bare transport error.
 */
import * as consul from "@pulumi/consul";
import * as pulumi from "@pulumi/pulumi";
import type { MeshProblem } from "../mesh";
import { ConsulClient } from "../consul/client";
import { ConsulError } from "../consul/errors";
import { consulBaseUrl } from "../consul/settings";
import type { ConsulDatacenter } from "./consul-datacenter";
import { DatacenterAccessError } from "./errors";
import { datacenterProblems, throwIfProblems } from "./plans/arg-problems";

/** Time limit of each request of the check, in ms. */
const CHECK_TIMEOUT_MS = 10_000;

/** Arguments of {@link ExistingDatacenter}. */
export interface ExistingDatacenterArgs {
  /** The datacenter's name, as its agents' `datacenter`. */
  datacenter: string;
  /**
   * Its HTTP API as the Pulumi program reaches it, as `CONSUL_HTTP_ADDR` takes it: `http://host:port`,
   * `https://host:port`, or `host:port` (then `http`).
   */
  address: pulumi.Input<string>;
  /**
   * ACL token the components write with: `acl:write` for gateways' policies and tokens, `operator:write`
   * or `mesh:write` for `proxy-defaults`, `service:write` for the services they register. Kept as a secret.
   * Default: none (anonymous).
   */
  token?: pulumi.Input<string>;
  /** PEM CA certificate(s) that verify an `https` API. Default: none (the system's roots). */
  caPem?: pulumi.Input<string>;
  /** Whether the datacenter enforces ACLs (then each gateway gets a policy and token). Default: `true` when a token is given. */
  aclEnabled?: boolean;
  /** Its HTTP API as gateway containers reach it (`--consul`). Default: {@link ExistingDatacenterArgs.address}. */
  containerAddress?: pulumi.Input<string>;
  /**
   * Its agent's gRPC (xDS) server as gateway containers reach it, as `CONSUL_GRPC_ADDR` takes it (`host:port`
   * plaintext, `https://host:port` TLS). Default: the container address's host on 8502 (8503 with https).
   */
  grpcAddress?: pulumi.Input<string>;
  /** The Docker network the containers placed for it join. Default: none (the Docker host's own network). */
  networkName?: pulumi.Input<string>;
  /** Check at preview and update that the datacenter answers as given. Default: `true`. */
  check?: boolean;
}

/** A Consul datacenter that runs already, and a provider for it. */
export class ExistingDatacenter extends pulumi.ComponentResource implements ConsulDatacenter {
  readonly name: string;
  readonly httpAddress: pulumi.Input<string>;
  readonly token?: pulumi.Output<string>;
  readonly caPem?: pulumi.Input<string>;
  readonly aclEnabled: boolean;
  readonly provider: consul.Provider;
  readonly servers: pulumi.Resource[] = [];
  readonly lanHttpAddress: pulumi.Input<string>;
  readonly lanGrpcAddress?: pulumi.Input<string>;
  readonly lanNetworkName?: pulumi.Input<string>;
  /**
   * What the check read: the datacenter's Raft leader and its Connect trust domain (from its CA roots),
   * known once it passed; it fails the run with a {@link DatacenterAccessError} when the datacenter does
   * not answer as given. Without `check`, none.
   */
  readonly checked?: pulumi.Output<DatacenterFacts>;
  /** The datacenter's Connect trust domain, as its CA roots say (with `check`). */
  readonly trustDomain?: pulumi.Output<string>;

  constructor(name: string, args: ExistingDatacenterArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems = datacenterProblems({ name: args.datacenter }, undefined, "args.datacenter");
    if (typeof args.address === "string") problems.push(...addressProblems(args.address));
    throwIfProblems(problems, `ExistingDatacenter ${JSON.stringify(name)} arguments`);
    super("consul-mesh:index:ExistingDatacenter", name, {}, opts);
    this.name = args.datacenter;
    this.httpAddress = args.address;
    this.caPem = args.caPem;
    this.aclEnabled = args.aclEnabled ?? args.token !== undefined;
    this.lanHttpAddress = args.containerAddress ?? args.address;
    this.lanGrpcAddress = args.grpcAddress;
    this.lanNetworkName = args.networkName;
    if (args.token !== undefined) this.token = pulumi.secret(args.token);
    const endpoint = pulumi.output(args.address).apply((address) => providerEndpoint(this.name, address));
    this.provider = new consul.Provider(
      `${name}-provider`,
      {
        address: endpoint.address,
        scheme: endpoint.scheme,
        datacenter: this.name,
        caPem: args.caPem,
        token: this.token,
      },
      { parent: this },
    );
    if (args.check !== false) {
      // What is read is no secret, though the token it was read with is.
      this.checked = pulumi.unsecret(
        pulumi
          .all([args.address, this.token, args.caPem])
          .apply(([address, token, ca]) => checkDatacenter(this.name, { address, token, ca })),
      );
      this.trustDomain = this.checked.trustDomain;
    }
    this.registerOutputs({ name: this.name, httpAddress: this.httpAddress, checked: this.checked });
  }
}

/** What {@link checkDatacenter} reads of a datacenter. */
export interface DatacenterFacts {
  /** The address of its Raft leader. */
  leader: string;
  /** Its Connect trust domain (`<cluster-id>.consul`). */
  trustDomain: string;
}

/** The problem of an address known now, as a list. */
function addressProblems(address: string): MeshProblem[] {
  try {
    consulBaseUrl(address);
    return [];
  } catch (e) {
    if (!(e instanceof ConsulError)) throw e;
    return [{ path: "args.address", message: e.message }];
  }
}

/** `host:port` and scheme of an address, as `consul.Provider` takes them. */
function providerEndpoint(datacenter: string, address: string): { address: string; scheme: string } {
  try {
    const url = consulBaseUrl(address);
    return { address: url.host, scheme: url.protocol.replace(/:$/, "") };
  } catch (e) {
    if (e instanceof ConsulError) throw new DatacenterAccessError(datacenter, e.code, `args.address: ${e.message}`);
    throw e;
  }
}

/**
 * Checks that a datacenter answers as given: its API (through the CA given) knows the datacenter
 * and has a leader, the token, when given, is one Consul knows, and Connect has a CA.
 * @throws {@link DatacenterAccessError} naming the datacenter and what failed.
 */
export async function checkDatacenter(
  datacenter: string,
  connection: { address: string; token?: string; ca?: string },
): Promise<DatacenterFacts> {
  providerEndpoint(datacenter, connection.address);
  const client = new ConsulClient({
    ...connection,
    requestTimeoutMs: CHECK_TIMEOUT_MS,
    deniedHint: "the token is not one this datacenter knows (or has expired): check args.token",
  });
  try {
    const leader = (await client.get<string>("/v1/status/leader", { dc: datacenter })).body;
    if (!leader) throw new DatacenterAccessError(datacenter, "E_CONSUL_BAD_RESPONSE", "it has no leader");
    if (connection.token) await client.get("/v1/acl/token/self");
    const roots = (await client.get<{ TrustDomain?: string }>("/v1/connect/ca/roots", { dc: datacenter })).body;
    if (!roots.TrustDomain)
      throw new DatacenterAccessError(datacenter, "E_CONSUL_BAD_RESPONSE", "Connect has no CA (is connect enabled?)");
    return { leader, trustDomain: roots.TrustDomain };
  } catch (e) {
    if (e instanceof ConsulError) throw new DatacenterAccessError(datacenter, e.code, e.message);
    throw e;
  } finally {
    client.close();
  }
}
