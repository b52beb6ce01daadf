import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

/** One static import of a package, and the chain of modules that leads to it from an entry. */
export interface PackageImport {
  packageName: string;
  specifier: string;
  chain: string[];
}

export interface ImportGraph {
  /** Every module that can load: reached by static imports, or by a dynamic import of a literal relative path. */
  modules: Set<string>;
  /** Packages imported statically (loaded with the module that imports them), builtins left out. */
  packageImports: PackageImport[];
  /** Relative imports that name no file. */
  unresolved: string[];
}

interface Specifiers {
  static: string[];
  dynamic: string[];
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`. */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier);
}

/** The module specifiers of one compiled JavaScript module: static imports and re-exports, and literal `import(...)` calls. */
function specifiersOf(file: string): Specifiers {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const found: Specifiers = { static: [], dynamic: [] };
  for (const statement of source.statements) {
    if (
      (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) &&
      statement.moduleSpecifier &&
      ts.isStringLiteral(statement.moduleSpecifier)
    ) {
      found.static.push(statement.moduleSpecifier.text);
    }
  }
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg)) found.dynamic.push(arg.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * Walks the modules that `entries` (compiled .js files) can load and lists the packages they
 * import statically, each with the chain that reaches it. Dynamic imports of packages are not
 * followed: they load only when called, which is how optional packages are meant to be loaded.
 */
export function importGraph(entries: string[]): ImportGraph {
  const graph: ImportGraph = { modules: new Set(), packageImports: [], unresolved: [] };
  const queue: Array<{ file: string; chain: string[] }> = entries.map((file) => ({ file, chain: [file] }));
  while (queue.length > 0) {
    const { file, chain } = queue.shift()!;
    if (graph.modules.has(file)) continue;
    graph.modules.add(file);
    const { static: statics, dynamic } = specifiersOf(file);
    const follow = (specifier: string): void => {
      const target = fileURLToPath(new URL(specifier, pathToFileURL(file)));
      if (existsSync(target)) queue.push({ file: target, chain: [...chain, target] });
      else graph.unresolved.push(`${file} → ${specifier}`);
    };
    for (const specifier of statics) {
      if (specifier.startsWith('.')) follow(specifier);
      else if (!isBuiltin(specifier)) graph.packageImports.push({ packageName: packageOf(specifier), specifier, chain });
    }
    for (const specifier of dynamic) if (specifier.startsWith('.')) follow(specifier);
  }
  return graph;
}
