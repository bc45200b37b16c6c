/**
 * The public API of an entry point, as text: every name it exports with its kind and its type
 * (functions with their signatures, classes and interfaces with their public members), sorted.
 * What api-extractor's report does, with the TypeScript compiler alone: a change to the public
 * surface changes the report, so `test/api-report.test.ts` sees it.
 */
import path from "node:path";
import ts from "typescript";

const FORMAT =
  ts.TypeFormatFlags.NoTruncation |
  ts.TypeFormatFlags.UseFullyQualifiedType |
  ts.TypeFormatFlags.WriteArrowStyleSignature |
  ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType;

/** A program over the repository's sources, as `tsconfig.json` compiles them. */
export function apiProgram(root: string, entries: string[]): ts.Program {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path.join(root, "tsconfig.json"),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => Promise.reject(new Error(String(d.messageText))) },
  );
  if (!parsed) throw new Error("tsconfig.json cannot be read");
  return ts.createProgram(
    entries.map((e) => path.join(root, e)),
    parsed.options,
  );
}

/** Full type names without the absolute paths TypeScript prints for imported types. */
function clean(text: string, root: string): string {
  return text.replace(/import\("([^"]+)"\)\./g, (_all, file: string) =>
    file.startsWith(root) ? "" : `import("${path.basename(file)}").`,
  );
}

/**
 * The public members of a class or interface type, one per line; for a class, those declared in
 * this package (its own and its bases' here), not those a library's base class brings.
 */
function members(checker: ts.TypeChecker, type: ts.Type, at: ts.Node, ownOnly = false): string[] {
  return checker
    .getPropertiesOfType(type)
    .filter(
      (p) => !ownOnly || (p.declarations ?? []).some((d) => !d.getSourceFile().fileName.includes("/node_modules/")),
    )
    .filter((p) => {
      const modifiers = ts.getCombinedModifierFlags(p.valueDeclaration ?? (p.declarations?.[0] as ts.Declaration));
      return !(modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) && !p.name.startsWith("#");
    })
    .map((p) => {
      const optional = p.flags & ts.SymbolFlags.Optional ? "?" : "";
      const readonly =
        p.declarations?.some((d) => ts.getCombinedModifierFlags(d as ts.Declaration) & ts.ModifierFlags.Readonly) ??
        false;
      return `  ${readonly ? "readonly " : ""}${p.name}${optional}: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(p, at), at, FORMAT)}`;
    })
    .sort();
}

/** One exported symbol, as lines of the report. */
function describe(checker: ts.TypeChecker, name: string, symbol: ts.Symbol): string[] {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const decl = target.declarations?.[0];
  if (!decl) return [`unknown ${name}`];
  if (target.flags & ts.SymbolFlags.Class) {
    const instance = checker.getDeclaredTypeOfSymbol(target);
    const statics = checker.getTypeOfSymbolAtLocation(target, decl);
    const ctors = statics
      .getConstructSignatures()
      .map((s) => `  constructor${checker.signatureToString(s, decl, FORMAT).replace(/ => .*$/, "")}`);
    const base = checker.getBaseTypes(instance as ts.InterfaceType).map((b) => checker.typeToString(b, decl, FORMAT));
    return [
      `class ${name}${base.length ? ` extends ${base.join(", ")}` : ""}`,
      ...ctors,
      ...members(checker, instance, decl, true),
    ];
  }
  if (target.flags & ts.SymbolFlags.Interface) {
    return [`interface ${name}`, ...members(checker, checker.getDeclaredTypeOfSymbol(target), decl)];
  }
  if (target.flags & ts.SymbolFlags.TypeAlias) {
    const type = checker.getDeclaredTypeOfSymbol(target);
    return [`type ${name} = ${checker.typeToString(type, decl, FORMAT | ts.TypeFormatFlags.InTypeAlias)}`];
  }
  if (target.flags & ts.SymbolFlags.Function) {
    const type = checker.getTypeOfSymbolAtLocation(target, decl);
    return type.getCallSignatures().map((s) => `function ${name}${checker.signatureToString(s, decl, FORMAT)}`);
  }
  if (target.flags & ts.SymbolFlags.Variable) {
    return [`const ${name}: ${checker.typeToString(checker.getTypeOfSymbolAtLocation(target, decl), decl, FORMAT)}`];
  }
  return [`${ts.SymbolFlags[target.flags] ?? "symbol"} ${name}`];
}

/**
 * The report of one entry point: a line per exported name (more for classes and interfaces),
 * sorted by name.
 * @param program - A program that holds the entry.
 * @param root - The repository root (paths below it are left out of type names).
 * @param entry - The entry, relative to `root`, e.g. `mesh/index.ts`.
 */
export function apiReport(program: ts.Program, root: string, entry: string): string {
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(path.join(root, entry));
  if (!file) throw new Error(`${entry} is not in the program`);
  const module = checker.getSymbolAtLocation(file);
  if (!module) throw new Error(`${entry} is not a module`);
  const blocks = checker
    .getExportsOfModule(module)
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((symbol) => describe(checker, symbol.name, symbol).join("\n"));
  return clean(`${blocks.join("\n")}\n`, root);
}
