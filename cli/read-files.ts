// The program is also compiled from its entry file alone, where tsconfig.json's include does not apply.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./js-hcl-parser.d.ts" />
/**
 * The file sources of `consul-mesh plan`: topology files (JSON or YAML) and Consul
 * configuration (HCL or JSON files, or directories read as one agent's `-config-dir`).
 * A file that does not parse is a problem of the plan naming its line; a path that cannot
 * be read at all is a {@link PlanUsageError}.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import { parse as parseHcl } from "js-hcl-parser";
import { parseDocument } from "yaml";
import {
  consulConfigFragment,
  topologyFragment,
  type ConsulConfigDocument,
  type MeshFragment,
  type SourceProblem,
  emptyOrigins,
} from "../mesh";
import { PlanUsageError } from "./errors";

/** The extensions Consul reads from a configuration directory. */
const CONFIG_EXTENSIONS = new Set([".hcl", ".json"]);

async function readText(file: string, flag: string): Promise<string> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (error) {
    throw new PlanUsageError(
      `${flag} ${file}: ` +
        `${(error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message}`,
    );
  }
}

/** A fragment that holds nothing but one problem. */
function problemOnly(problem: SourceProblem): MeshFragment {
  return {
    mesh: { datacenters: [] },
    origins: emptyOrigins(),
    problems: [problem],
  };
}

/**
 * Reads a topology file: YAML (which includes JSON) unless it ends in `.json`.
 * @param file - Its path.
 */
export async function readTopologyFile(file: string): Promise<MeshFragment> {
  const text = await readText(file, "--topology");
  if (file.endsWith(".json")) {
    try {
      return topologyFragment(JSON.parse(text), file);
    } catch (error) {
      return problemOnly({ origin: file, message: `not valid JSON: ${(error as Error).message}` });
    }
  }
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length) {
    const [first] = document.errors;
    const at = first.linePos?.[0];
    return problemOnly({
      origin: file,
      ...(at ? { field: `line ${at.line}, column ${at.col}` } : {}),
      message: `not valid YAML: ${first.code}`,
    });
  }
  return topologyFragment(document.toJS(), file);
}

/** One Consul configuration file parsed, or the problem that it does not parse. */
function parseConfig(file: string, text: string): ConsulConfigDocument | SourceProblem {
  if (file.endsWith(".json")) {
    try {
      return { origin: file, content: JSON.parse(text) };
    } catch (error) {
      return { origin: file, message: `not valid JSON: ${(error as Error).message}` };
    }
  }
  const json = parseHcl(text);
  try {
    return { origin: file, content: JSON.parse(json) };
  } catch {
    // The parser returns its error message instead of JSON, e.g. "unable to parse JSON: At 3:2: …".
    const at = /At (\d+):(\d+): (.*)$/s.exec(json);
    return {
      origin: file,
      ...(at ? { field: `line ${at[1]}, column ${at[2]}` } : {}),
      message: `not valid HCL: ${at ? at[3] : json}`,
    };
  }
}

/**
 * Reads one `--config` argument: a file, or every `.hcl` and `.json` file of a directory in
 * lexical order (as Consul does), as one agent's configuration.
 * @param target - The file or directory.
 * @param datacenter - Datacenter of its services when no file sets `datacenter`.
 */
export async function readConsulConfig(target: string, datacenter: string | undefined): Promise<MeshFragment> {
  let files: string[];
  try {
    const stat = await fs.stat(target);
    files = stat.isDirectory()
      ? (await fs.readdir(target))
          .filter((name) => CONFIG_EXTENSIONS.has(path.extname(name)))
          .sort()
          .map((name) => path.join(target, name))
      : [target];
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new PlanUsageError(`--config ${target}: ${missing ? "no such file or directory" : (error as Error).message}`);
  }
  const documents: ConsulConfigDocument[] = [];
  const problems: SourceProblem[] = [];
  for (const file of files) {
    const parsed = parseConfig(file, await readText(file, "--config"));
    if ("content" in parsed) documents.push(parsed);
    else problems.push(parsed);
  }
  if (!files.length) problems.push({ origin: target, message: "no .hcl or .json file in this directory" });
  const fragment = consulConfigFragment(documents, { datacenter });
  return { ...fragment, problems: [...problems, ...(fragment.problems ?? [])] };
}
