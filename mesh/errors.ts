/**
 * The errors of the mesh model, each a class with a stable `code`, and the problem record they
 * carry: callers branch on the class or the code, never on the message.
 */

/** One problem in a mesh: the offending field and what is wrong with it. */
export interface MeshProblem {
  /** Field path from the mesh root, e.g. `services[2].proxy.upstreams[0].meshGateway.mode`. */
  path: string;
  /** What is wrong and how to fix it. */
  message: string;
}

/** Thrown by `assertValidMesh` (and renderers given an unusable mesh); `problems` lists them all. */
export class MeshValidationError extends Error {
  /** Stable error code. */
  readonly code = "E_MESH_INVALID";
  /** Every problem found, in a stable order. */
  readonly problems: MeshProblem[];

  /**
   * @param problems - The problems, at least one.
   * @param subject - What was checked, for the first line of the message. Default: `"mesh"`.
   */
  constructor(problems: MeshProblem[], subject = "mesh") {
    const count = problems.length;
    super(
      `invalid ${subject}: ${count} problem${count === 1 ? "" : "s"}\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n"),
    );
    this.name = "MeshValidationError";
    this.problems = problems;
  }
}

/** Thrown by `routeDiagramDot` when more routes remain after the filters than it draws readably. */
export class DiagramTooLargeError extends Error {
  /** Stable error code. */
  readonly code = "E_DIAGRAM_TOO_LARGE";
  /** Routes left after the filters. */
  readonly routes: number;
  /** Distinct services on those routes (sources and destinations). */
  readonly services: number;
  /** Distinct datacenters on those routes. */
  readonly datacenters: number;
  /** The most routes the diagram draws (`maxRoutes`). */
  readonly maxRoutes: number;

  /**
   * @param counts - What the diagram would draw, and the limit.
   * @param example - A service and a datacenter of the mesh to name in the suggested filters. Default: placeholders.
   */
  constructor(
    counts: { routes: number; services: number; datacenters: number; maxRoutes: number },
    example: { service?: string; datacenter?: string } = {},
  ) {
    const { service = "NAME", datacenter = "NAME" } = example;
    super(
      `the route diagram would draw ${counts.routes} routes between ${counts.services} services in ` +
        `${counts.datacenters} datacenters, more than the ${counts.maxRoutes} it can draw readably: ` +
        `draw part of the mesh with --service ${service} or --datacenter ${datacenter}`,
    );
    this.name = "DiagramTooLargeError";
    this.routes = counts.routes;
    this.services = counts.services;
    this.datacenters = counts.datacenters;
    this.maxRoutes = counts.maxRoutes;
  }
}

/** Thrown by `renderDiagramSvg` when Graphviz rejects its input; `messages` are Graphviz's own. */
export class DiagramRenderError extends Error {
  /** Stable error code. */
  readonly code = "E_DIAGRAM_RENDER";
  /** What Graphviz reported, in its order. */
  readonly messages: string[];

  /**
   * @param messages - Graphviz's error and warning messages.
   */
  constructor(messages: string[]) {
    super(`Graphviz could not render the diagram: ${messages.join("; ") || "no message"}`);
    this.name = "DiagramRenderError";
    this.messages = messages;
  }
}
