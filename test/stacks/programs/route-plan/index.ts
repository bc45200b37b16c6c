/** The default mesh's route plan, with `api`'s upstream in the mode this line names. */
import { assertValidMesh, defaultMesh, planRoutes } from "consul-mesh-gateway";

const API_MODE = "remote";

const mesh = defaultMesh();
const web = mesh.services?.find((s) => s.name === "web");
const api = web?.connect?.sidecarService?.proxy?.upstreams?.find((u) => u.destinationName === "api");
if (api) api.meshGateway = { mode: API_MODE };

// An invalid topology fails the preview, naming the field, as ConsulMesh does.
assertValidMesh(mesh);

/** Which path each upstream takes. */
export const routePlan = planRoutes(mesh);
