/**
 * The zod schema of the routes file (`--routes FILE`), the runtime check of the
 * {@link RoutesFile} contract from `mesh/`. Published as JSON Schema in
 * `gateway/routing/routes.schema.json` (see {@link routesJsonSchema}).
 */
import { z } from "zod";
import type { RoutesFile } from "../../mesh/model/routes-file";
import { DOMAIN_PATTERN, NAME_PATTERN } from "../../mesh/model/names";

const label = (what: string) =>
  z.string().regex(NAME_PATTERN, `${what} must be a DNS label: letters, digits, '-' and '_', 1-63 characters`);

/** An endpoint: an IP address or host name, and a TCP port. */
export const endpointSchema = z
  .object({
    address: z.string().min(1, "address must not be empty").max(253).describe("IP address or host name."),
    port: z.number().int().min(1).max(65535).describe("TCP port, 1-65535."),
  })
  .strict();

/** A local service and its connect endpoints. */
export const serviceSchema = z
  .object({
    name: label("name").describe("Service name."),
    namespace: label("namespace").optional().describe('Namespace. Default: "default".'),
    partition: label("partition").optional().describe('Admin partition. Default: "default".'),
    subset: label("subset").optional().describe("Service subset. Default: none."),
    endpoints: z.array(endpointSchema).describe("The service's healthy connect endpoints (its sidecars)."),
  })
  .strict();

/** The mesh gateways of another datacenter. */
export const gatewaySchema = z
  .object({
    datacenter: label("datacenter").describe("The remote datacenter."),
    partition: label("partition").optional().describe('Admin partition. Default: "default".'),
    endpoints: z.array(endpointSchema).describe("Its mesh gateways, at their WAN addresses."),
  })
  .strict();

/** A Consul server of the gateway's datacenter. */
export const serverSchema = z
  .object({
    node: label("node").describe("The server's node name."),
    endpoints: z.array(endpointSchema).describe("Its server RPC address (ports.server, 8300)."),
  })
  .strict();

/** Server traffic, with WAN federation through mesh gateways. */
export const wanFederationSchema = z
  .object({
    domain: z
      .string()
      .min(1)
      .regex(DOMAIN_PATTERN, "domain must be a domain such as consul")
      .optional()
      .describe('Consul\'s domain, which server SNI names end with. Default: "consul".'),
    servers: z.array(serverSchema).describe("The servers of the gateway's datacenter."),
  })
  .strict();

/** A cluster peering name and where it goes. */
export const peeringRouteSchema = z
  .object({
    sni: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9._-]+$/, "sni must be a DNS name")
      .describe("The SNI name, exactly."),
    kind: z
      .enum(["local-servers", "peer-servers", "exported", "imported"])
      .describe(
        "local-servers: this cluster's servers (gRPC TLS) for a peer's; peer-servers: a peer's servers, for this " +
          "cluster's; exported: a local service exported to a peer; imported: a peer's service, to its gateways.",
      ),
    peer: label("peer").optional().describe("The peer's name in this cluster. Default: none."),
    service: label("service").optional().describe("The service, for exported and imported. Default: none."),
    terminates: z
      .boolean()
      .optional()
      .describe("Consul's gateway terminates mTLS for this name (http, http2, grpc): refused. Default: false."),
    endpoints: z.array(endpointSchema).describe("Where the name goes."),
  })
  .strict();

/** The whole routes file. */
export const routesFileSchema = z
  .object({
    $schema: z.string().optional().describe("Optional JSON Schema reference; ignored."),
    datacenter: label("datacenter").describe("The gateway's own datacenter."),
    trustDomain: z
      .string()
      .min(1)
      .regex(DOMAIN_PATTERN, "trustDomain must be a domain such as <cluster-id>.consul")
      .describe("Connect trust domain, <cluster-id>.consul."),
    services: z.array(serviceSchema).default([]).describe("Services of the gateway's datacenter."),
    gateways: z.array(gatewaySchema).default([]).describe("Mesh gateways of the other datacenters."),
    wanFederation: wanFederationSchema
      .optional()
      .describe("Consul servers' own traffic (WAN federation through mesh gateways). Default: none (refused)."),
    peering: z
      .array(peeringRouteSchema)
      .optional()
      .describe("Cluster peering through the gateways, by exact name. Default: none (refused)."),
  })
  .strict()
  .describe("Routes of one SNI mesh gateway (sni-gateway --routes FILE).");

/** Result of {@link parseRoutesFile}. */
export type ParsedRoutesFile = { ok: true; routes: RoutesFile } | { ok: false; error: string };

/**
 * Validates a routes file's parsed JSON. Errors name the offending field, e.g.
 * `services[0].endpoints[1].port: Too big: expected number to be <=65535`.
 * @param json the parsed JSON value.
 */
export function parseRoutesFile(json: unknown): ParsedRoutesFile {
  const result = routesFileSchema.safeParse(json);
  if (!result.success) {
    const error = result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`).join("; ");
    return { ok: false, error };
  }
  const { $schema: _schema, ...routes } = result.data;
  return { ok: true, routes };
}

function formatPath(path: PropertyKey[]): string {
  if (path.length === 0) return "(root)";
  return path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join("");
}

/** The routes file schema as JSON Schema (draft 2020-12), as published in `gateway/routing/routes.schema.json`. */
export function routesJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(routesFileSchema, { io: "input" }) as Record<string, unknown>;
}
