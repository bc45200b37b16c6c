/**
 * Whether a token holds the rights a caller needs, asked of Consul itself
 * (`POST /v1/internal/acl/authorize`, the endpoint Consul's UI asks), so that a missing right is
 * known before anything is written, and named as an ACL rule names it.
 */
import type { ConsulClient } from "./client";

/** One right, as an ACL rule grants it: `acl:write`, `service:write` on `web`. */
export interface AclRight {
  /** The resource: `acl`, `service`, `node`, `operator`, `mesh`, `intention`, … */
  resource: string;
  /** The resource's name, for resources that have one (a service's name). Default: none. */
  segment?: string;
  /** The access. */
  access: "read" | "write";
}

/**
 * A right as a person reads it: `acl:write`, `service:write on "web"`.
 * @param right - The right.
 */
export function formatRight(right: AclRight): string {
  return `${right.resource}:${right.access}${right.segment === undefined ? "" : ` on ${JSON.stringify(right.segment)}`}`;
}

/**
 * The rights the client's token lacks, of those asked.
 * @param client - A client with the token to check.
 * @param rights - The rights needed.
 * @throws ConsulError when Consul cannot be asked.
 */
export async function missingRights(client: ConsulClient, rights: AclRight[]): Promise<AclRight[]> {
  if (rights.length === 0) return [];
  const body = rights.map((r) => ({
    Resource: r.resource,
    Access: r.access,
    ...(r.segment === undefined ? {} : { Segment: r.segment }),
  }));
  const answer = await client.post<{ Allow?: boolean }[]>("/v1/internal/acl/authorize", body);
  return rights.filter((_, i) => answer[i]?.Allow !== true);
}
