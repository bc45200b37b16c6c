/** The error thrown for an invalid mesh, listing every problem at once. */

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
