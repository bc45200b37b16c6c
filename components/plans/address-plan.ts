/**
 * Where the containers of a mesh sit on their Docker networks: fixed IPv4 addresses inside
 * the subnets the components create, so that agent configuration, gateway arguments and
 * routes files are known at preview time and never change between runs.
 *
 * LAN of a datacenter (its own subnet):  servers at host 10 + i, gateways at host 20 + j,
 *   workloads (a service's demo container and sidecar) at host 30 + k; the upper half of the
 *   subnet is left to Docker, for containers that join from other datacenters.
 * WAN (one subnet shared by every datacenter, datacenter d in declaration order):
 *   servers at host 10 + 20·d + i, gateways at host 20 + 20·d + j   (d < 12, i, j < 10).
 * Host 1 is left to Docker's bridge gateway.
 */

import type { MeshProblem } from "../../mesh";
import { InvalidArgumentError } from "../errors";

/** Most Consul servers per datacenter the plan places. */
export const MAX_SERVERS = 10;
/** Most gateway containers per datacenter the plan places. */
export const MAX_GATEWAYS = 10;
/** Most workloads per datacenter the plan places. */
export const MAX_WORKLOADS = 90;
/** Most datacenters sharing one WAN subnet. */
export const MAX_WAN_DATACENTERS = 12;

/** A parsed IPv4 subnet. */
interface Subnet {
  base: number;
  prefix: number;
}

function parseSubnet(cidr: string, field: string): Subnet {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : NaN;
  if (!m || octets.some((o) => o > 255) || prefix > 24 || prefix < 8) {
    throw new InvalidArgumentError(
      field,
      `${JSON.stringify(cidr)} is not an IPv4 subnet from /8 to /24 (e.g. "10.250.1.0/24")`,
    );
  }
  const base = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((base & mask) >>> 0 !== base) {
    throw new InvalidArgumentError(field, `${JSON.stringify(cidr)} has host bits set; use the network address`);
  }
  return { base, prefix };
}

function format(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join(".");
}

/**
 * Checks a subnet argument, throwing an error that names `field` when it is not an IPv4
 * network address with a prefix from /8 to /24.
 */
export function checkSubnet(cidr: string, field: string): void {
  parseSubnet(cidr, field);
}

/**
 * The problem of a subnet argument, as a list: empty when `cidr` is an IPv4 network address
 * with a prefix from /8 to /24, else one problem at `path` saying why not.
 */
export function subnetProblems(cidr: string, path: string): MeshProblem[] {
  try {
    parseSubnet(cidr, path);
    return [];
  } catch (e) {
    if (!(e instanceof InvalidArgumentError)) throw e;
    return [{ path, message: e.reason }];
  }
}

/**
 * What a component plans with for an address Pulumi has yet to resolve: the plan's shape (its
 * containers, names and networks) does not depend on an address's value, so the plan is made with a
 * stand-in (TEST-NET-1, RFC 5737), and again with the value once it is known.
 * @param address - The address as given: a plain string is kept; any other value (an Output, a promise) is stood in for.
 */
export function addressStandIn(address: unknown): string | undefined {
  return address === undefined || typeof address === "string" ? address : "192.0.2.1";
}

/** Whether an address is an IPv4 or IPv6 literal rather than a host name. */
export function isIpAddress(address: string): boolean {
  return /^[\d.]+$/.test(address) || address.includes(":");
}

/** The `n`-th host address of `cidr` (n ≥ 1). */
export function hostAddress(cidr: string, n: number, field = "subnet"): string {
  const { base } = parseSubnet(cidr, field);
  return format(base + n);
}

/** LAN address of server `i` of a datacenter. */
export function lanServerAddress(lanSubnet: string, i: number): string {
  if (i < 0 || i >= MAX_SERVERS) throw new InvalidArgumentError("servers", `at most ${MAX_SERVERS} per datacenter`);
  return hostAddress(lanSubnet, 10 + i, "lanSubnet");
}

/** LAN address of gateway container `j` of a datacenter. */
export function lanGatewayAddress(lanSubnet: string, j: number): string {
  if (j < 0 || j >= MAX_GATEWAYS)
    throw new InvalidArgumentError("gateways", `at most ${MAX_GATEWAYS} containers per datacenter`);
  return hostAddress(lanSubnet, 20 + j, "lanSubnet");
}

/** LAN address of workload `k` of a datacenter. */
export function lanWorkloadAddress(lanSubnet: string, k: number): string {
  if (k < 0 || k >= MAX_WORKLOADS)
    throw new InvalidArgumentError("services", `at most ${MAX_WORKLOADS} workloads per datacenter`);
  return hostAddress(lanSubnet, 30 + k, "lanSubnet");
}

/** The range Docker gives addresses from on a LAN (its upper half), clear of the fixed ones above. */
export function dynamicRange(lanSubnet: string): string {
  const { base, prefix } = parseSubnet(lanSubnet, "lanSubnet");
  return `${format(base + 2 ** (32 - prefix - 1))}/${prefix + 1}`;
}

/** WAN address of server `i` of the `d`-th datacenter. */
export function wanServerAddress(wanSubnet: string, d: number, i: number): string {
  if (d < 0 || d >= MAX_WAN_DATACENTERS)
    throw new InvalidArgumentError("datacenters", `at most ${MAX_WAN_DATACENTERS} share one WAN subnet`);
  if (i < 0 || i >= MAX_SERVERS) throw new InvalidArgumentError("servers", `at most ${MAX_SERVERS} per datacenter`);
  return hostAddress(wanSubnet, 10 + 20 * d + i, "wanSubnet");
}

/** WAN address of gateway container `j` of the `d`-th datacenter. */
export function wanGatewayAddress(wanSubnet: string, d: number, j: number): string {
  if (d < 0 || d >= MAX_WAN_DATACENTERS)
    throw new InvalidArgumentError("datacenters", `at most ${MAX_WAN_DATACENTERS} share one WAN subnet`);
  if (j < 0 || j >= MAX_GATEWAYS)
    throw new InvalidArgumentError("gateways", `at most ${MAX_GATEWAYS} containers per datacenter`);
  return hostAddress(wanSubnet, 20 + 20 * d + j, "wanSubnet");
}

/** The default LAN subnet of the `d`-th datacenter of a mesh: `10.250.<d+1>.0/24`. */
export function defaultLanSubnet(d: number): string {
  return `10.250.${d + 1}.0/24`;
}

/** The default WAN subnet: `10.250.0.0/24`. */
export const DEFAULT_WAN_SUBNET = "10.250.0.0/24";
