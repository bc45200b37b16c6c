/** Types of `scripts/mesh-schema.js` (plain Node), for the test that checks the published schema. */

/** Absolute path of `mesh/mesh.schema.json`. */
export declare const SCHEMA_FILE: string;

/** The topology file's JSON Schema (draft-07), generated from the `Mesh` type of `mesh/model/types.ts`. */
export declare function meshSchema(): Record<string, unknown>;

/** The text of `mesh/mesh.schema.json`: the schema, two-space indented, with a final newline. */
export declare function meshSchemaText(): string;
