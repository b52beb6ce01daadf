/** A plain app's entry point: `berth:host/entry#run` or a command's `wasi:cli/run#run`. */
export function hasEntryPoint(exports: string[]): boolean {
  return exports.some((e) => /^(berth:host\/entry|wasi:cli\/run)(@[^#]*)?#run$/.test(e));
}
