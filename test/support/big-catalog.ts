/**
 * A big catalog in a real Consul, for the scale test and benchmark of the gateway's route
 * sources: `services` services spread over catalog nodes (10 services a node), each with one
 * to three instances and a connect sidecar per instance, every check passing. Written in
 * `/v1/txn` batches (64 operations, Consul's limit), so 10,000 services load in seconds.
 */
import type { RealDatacenter } from "./real-consul";

/** What {@link loadBigCatalog} registered. */
export interface BigCatalog {
  /** Service names, `svc0` … `svc<n-1>`. */
  services: string[];
  /** Instances (each with a sidecar). */
  instances: number;
  /** The sidecar endpoints (`address:port`) of one service. */
  endpoints(service: string): string[];
}

const SERVICES_PER_NODE = 10;
const TXN_OPS = 64;

/** The catalog node an instance is on, and its address. */
function node(i: number): { Node: string; Address: string } {
  return { Node: `big-node-${i}`, Address: `10.${(i >> 8) & 255}.${i & 255}.1` };
}

/**
 * Registers a big catalog in `dc` with its management token; deterministic for a size.
 * Catalog nodes carry no `serfHealth` check (the leader would reap them as failed members).
 * @param dc - The datacenter.
 * @param count - Services to register.
 * @param first - Number of the first service, to grow a catalog. Default: `0`.
 */
export async function loadBigCatalog(dc: RealDatacenter, count: number, first = 0): Promise<BigCatalog> {
  const nodes = Math.max(1, Math.ceil((first + count) / SERVICES_PER_NODE));
  const ops: unknown[] = [];
  const endpoints = new Map<string, string[]>();
  for (let n = Math.floor(first / SERVICES_PER_NODE); n < nodes; n++) {
    ops.push(
      { Node: { Verb: "set", Node: { ...node(n), Datacenter: dc.name } } },
      {
        Check: { Verb: "set", Check: { Node: node(n).Node, CheckID: "node-alive", Name: "alive", Status: "passing" } },
      },
    );
  }
  let instances = 0;
  for (let s = first; s < first + count; s++) {
    const name = `svc${s}`;
    const at = node(Math.floor(s / SERVICES_PER_NODE));
    const list: string[] = [];
    for (let i = 0; i < 1 + (s % 3); i++, instances++) {
      const id = `${name}-${i}`;
      const port = 21000 + i;
      list.push(`${at.Address}:${port}`);
      ops.push(
        { Service: { Verb: "set", Node: at.Node, Service: { ID: id, Service: name, Port: 8080 } } },
        {
          Service: {
            Verb: "set",
            Node: at.Node,
            Service: {
              ID: `${id}-sidecar-proxy`,
              Kind: "connect-proxy",
              Service: `${name}-sidecar-proxy`,
              Port: port,
              Proxy: { DestinationServiceName: name, DestinationServiceID: id, LocalServicePort: 8080 },
            },
          },
        },
        {
          Check: {
            Verb: "set",
            Check: {
              Node: at.Node,
              CheckID: `service:${id}-sidecar-proxy`,
              Name: "sidecar listening",
              Status: "passing",
              ServiceID: `${id}-sidecar-proxy`,
            },
          },
        },
      );
    }
    endpoints.set(name, list.sort());
  }
  for (let i = 0; i < ops.length; i += TXN_OPS) {
    const answer = await dc.api("PUT", "/v1/txn", ops.slice(i, i + TXN_OPS));
    if (answer.status !== 200) throw new Error(`PUT /v1/txn: ${answer.status} ${answer.text.slice(0, 300)}`);
  }
  return { services: [...endpoints.keys()], instances, endpoints: (service) => endpoints.get(service) ?? [] };
}
