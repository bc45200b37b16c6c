/**
 * What every Docker object of a mesh carries, whichever component creates it: a name under the
 * resource prefix (unique per Docker host), and `consul-mesh.*` labels naming its datacenter,
 * role and service.
 */

/** The prefix of Docker object names unless told otherwise. */
export const DEFAULT_RESOURCE_PREFIX = "consul-mesh";

/** A label of a Docker network, volume or container. */
export interface DockerLabel {
  /** The key, e.g. `consul-mesh.role`. */
  label: string;
  /** The value. */
  value: string;
}

/** A Docker network with a fixed name (the old one must go before its replacement can exist). */
export interface PlannedNetwork {
  /** Resource name. */
  resourceName: string;
  /** The Docker network's name. */
  name: string;
  /** The driver: `bridge`. */
  driver: string;
  /** Whether it has no route off the Docker host. Default: not set (Docker's `false`). */
  internal?: boolean;
  /** Its subnet, and the range Docker gives addresses from. */
  ipamConfigs: { subnet: string; ipRange?: string }[];
  /** Its labels. */
  labels: DockerLabel[];
}

/** Where a container sits on one Docker network (the network itself is the component's). */
export interface NetworkPlacement {
  /** Its fixed IPv4 address there. */
  ipv4Address: string;
  /** Its network aliases there. */
  aliases: string[];
}

/** What the labels of a Docker object say; each part is optional. */
export interface LabelParts {
  /** The datacenter (`consul-mesh.datacenter`). Default: no label. */
  datacenter?: string;
  /** The role, e.g. `server`, `mesh-gateway`, `wan` (`consul-mesh.role`). Default: no label. */
  role?: string;
  /** The service (`consul-mesh.service`). Default: no label. */
  service?: string;
}

/**
 * The labels of a Docker object: datacenter, role and service, in that order, each one given.
 * @param parts - What the labels say.
 */
export function dockerLabels(parts: LabelParts): DockerLabel[] {
  const labels: DockerLabel[] = [];
  if (parts.datacenter !== undefined) labels.push({ label: "consul-mesh.datacenter", value: parts.datacenter });
  if (parts.role !== undefined) labels.push({ label: "consul-mesh.role", value: parts.role });
  if (parts.service !== undefined) labels.push({ label: "consul-mesh.service", value: parts.service });
  return labels;
}
