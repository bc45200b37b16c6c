/**
 * `npm run schema`: writes `mesh/mesh.schema.json`, the JSON Schema of a topology file
 * (`consul-mesh plan --topology FILE`, JSON or YAML), generated from the `Mesh` type of
 * `mesh/model/types.ts` by ts-json-schema-generator; the types' TSDoc become the descriptions.
 * `test/mesh/mesh-schema.test.ts` fails when the committed file differs from what this generates.
 */
"use strict";
const { writeFileSync } = require("node:fs");
const path = require("node:path");
const { createGenerator } = require("ts-json-schema-generator");

const ROOT = path.resolve(__dirname, "..");
/** Where the schema is published. */
const SCHEMA_FILE = path.join(ROOT, "mesh/mesh.schema.json");

/** `{@link NAME}` as the generator leaves it in a description (`Default:  {@link  NAME } .`). */
const LINK = /\s*\{@link\s+([^\s|}]+)[^}]*\}\s*([.,;:)]?)/g;

/** Every `description` under `node`, with TSDoc links written as code: `` `NAME` ``. */
function withPlainLinks(node) {
  if (Array.isArray(node)) return node.map(withPlainLinks);
  if (node === null || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => [
      key,
      key === "description" && typeof value === "string"
        ? value.replace(LINK, (_, name, punctuation) => ` \`${name}\`${punctuation || " "}`).trim()
        : withPlainLinks(value),
    ]),
  );
}

/**
 * The topology file's JSON Schema (draft-07), as published in `mesh/mesh.schema.json`: the
 * `Mesh` type at the root, with an optional `$schema` key for editors, and every other type it
 * uses under `definitions`. Unknown keys are refused, so a Consul spelling such as
 * `destination_name` is caught.
 * @returns {Record<string, unknown>} The schema.
 */
function meshSchema() {
  const generated = createGenerator({
    path: path.join(ROOT, "mesh/model/types.ts"),
    tsconfig: path.join(ROOT, "tsconfig.json"),
    type: "Mesh",
    topRef: false,
  }).createSchema("Mesh");
  const { $schema, type, properties, required, additionalProperties, definitions } = withPlainLinks(generated);
  const schemaKey = { type: "string", description: "Optional JSON Schema reference, for editors; ignored." };
  return {
    $schema,
    $id: "urn:consul-mesh-gateway:mesh.schema.json",
    title: "Consul mesh topology",
    description:
      "A topology file of `consul-mesh plan --topology FILE` (JSON or YAML): the mesh model of " +
      "consul-mesh-gateway (`Mesh` in mesh/model/types.ts), Consul's configuration in camelCase.",
    type,
    properties: { $schema: schemaKey, ...properties },
    required,
    additionalProperties,
    definitions,
  };
}

/** The text of `mesh/mesh.schema.json`: the schema, two-space indented, with a final newline. */
function meshSchemaText() {
  return `${JSON.stringify(meshSchema(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(SCHEMA_FILE, meshSchemaText());
  process.stdout.write(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}\n`);
}

module.exports = { SCHEMA_FILE, meshSchema, meshSchemaText };
