import { BerthError } from '../../../common/errors.js';
import { listTooLong, MAX_HANDLES, MAX_LIST_ELEMENTS, TOO_MANY_HANDLES } from '../value-limits.js';

/**
 * The changes Berth makes to jco's generated glue. First, a ceiling on resource handles. The glue
 * keeps each resource type's handles in a JavaScript array (two slots a handle, freed slots
 * reused) and also adds every handle it ever made to a set it never reads nor shrinks. Both live
 * on the sandbox thread's heap and grow by copying themselves whole, so a guest that makes handles
 * without end (its own resource's `resource.new`, or a host constructor in a loop) reaches an
 * allocation past the heap limit, which ends the whole process (docs/hostile.md, "Heap").
 *
 * The patch drops the write-only set and refuses a handle past `MAX_HANDLES` live ones of a type
 * with a trap. A glue that has resource tables but not the helper this was written for (another
 * jco) is refused rather than run without the ceiling.
 */

/** Names the patch in the transpile cache's key, so glue cached before it is made again. */
export const GLUE_PATCH = 'handles-lists-debuglog-2';

const LIST_LOOP = /for \(let i = 0; i < len\d+; i\+\+\)/g;
const LIST_LIFT = /(var result\d+ = \[\];)(\s*for \(let i = 0; i < (len\d+); i\+\+\) \{\s*const base = base\d+ \+ i \* \d+;)/g;

const CREATE_OWN = /(function rscTableCreateOwn\(table, rep\) \{\s*const free = table\[0\] & ~T_FLAG;)\s*table\._createdReps\.add\(rep\);/;

export function patchGlue(glue: string): string {
  return quietDebugLog(capLists(capHandles(glue)));
}

/**
 * jco 1.35's glue calls `_debugLog` several times in every call across the component boundary,
 * and each call reads `process.env.JCO_DEBUG` (a lookup in the process's environment, not a
 * property read): profiled serving HTTP from a JavaScript component, that was 15% of a request
 * (docs/http.md, "Performance"). Sandbox threads never print jco's debug output, so the helper
 * becomes a no-op. A glue without this exact helper is left as it is: only slower.
 */
const DEBUG_LOG =
  /const _debugLog = \(\.\.\.args\) => \{\s*if \(!globalThis\?\.process\?\.env\?\.JCO_DEBUG\) \{ return; \}\s*console\.debug\(\.\.\.args\);\s*\};/;

function quietDebugLog(glue: string): string {
  return glue.replace(DEBUG_LOG, 'const _debugLog = (...args) => {};');
}

function unsupported(what: string): BerthError {
  return new BerthError('engine-unsupported', `the transpiler made ${what} Berth cannot put a ceiling on (a jco version it does not know)`);
}

function capHandles(glue: string): string {
  if (!glue.includes('rscTableCreateOwn')) return glue;
  if (!CREATE_OWN.test(glue) || (glue.match(/_createdReps/g) ?? []).length !== (glue.match(/_createdReps = new Set\(\);/g) ?? []).length + 1) {
    throw unsupported('resource tables');
  }
  const ceiling = `if (free === 0 && table.length >= ${2 * (MAX_HANDLES + 1)}) throw new WebAssembly.RuntimeError(${JSON.stringify(TOO_MANY_HANDLES)});`;
  return glue.replace(CREATE_OWN, `$1\n    ${ceiling}`);
}

/** Every loop that lifts a list element by element gets a length check before it allocates anything. */
function capLists(glue: string): string {
  const loops = (glue.match(LIST_LOOP) ?? []).length;
  let patched = 0;
  const result = glue.replace(LIST_LIFT, (_, declare: string, loop: string, len: string) => {
    patched++;
    return `if (${len} > ${MAX_LIST_ELEMENTS}) throw new WebAssembly.RuntimeError(\`${listTooLong('${' + len + '}')}\`);\n${declare}${loop}`;
  });
  if (patched !== loops) throw unsupported('list lifting');
  return result;
}
