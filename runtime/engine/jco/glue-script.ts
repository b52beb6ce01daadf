/**
 * jco's instantiation-mode glue as a CommonJS script. A sandbox thread that loads the glue with
 * `import()` first starts Node's ES module loader, ~9 ms of a fresh thread's start here; the
 * same text loaded with `require` costs ~3 ms (docs/benchmarks.md, runtime). The glue exports
 * one function, `instantiate`, and an empty `_util`, and imports nothing (everything reaches it
 * as arguments), so turning it into a script takes removing two `export` keywords.
 *
 * Anything else in it (an import, another export, `import.meta`) means a jco whose glue this
 * was not written for: no script is made, and the sandbox imports the module as before.
 */
export function glueAsScript(esm: string): string | undefined {
  const declarations = [...esm.matchAll(/^export\s+(.*)$/gm)].map((m) => m[1]!);
  const known = declarations.every((d) => /^function instantiate\(/.test(d) || /^const _util = /.test(d));
  if (!known || declarations.filter((d) => d.startsWith('function instantiate(')).length !== 1) return undefined;
  if (/^\s*import[\s{*'"]/m.test(esm) || /\bimport\.meta\b/.test(esm)) return undefined;
  const body = esm.replace(/^export\s+(function instantiate\(|const _util = )/gm, '$1');
  // Modules are strict; a script is strict only when it says so.
  return `'use strict';\n${body}\nmodule.exports = { instantiate };\n`;
}
