/** The Docker objects the components place from their plans the same way. */
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import type { PlannedNetwork } from "./plans/docker-plan";

/**
 * A network as planned, under `parent`. Its name is fixed, so the old network must go before its
 * replacement can exist.
 * @param network - The planned network.
 * @param parent - The component it belongs to.
 */
export function placeNetwork(network: PlannedNetwork, parent: pulumi.Resource): docker.Network {
  const { resourceName, ...args } = network;
  return new docker.Network(resourceName, args, { parent, deleteBeforeReplace: true });
}
