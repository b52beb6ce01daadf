/**
 * Builds a host part once per instance, on first use, so that an app importing only
 * `wasi:cli/stdout` does not pay for a file system it cannot use, and two interfaces of one
 * part (wall clock and monotonic clock) share one object.
 */
export function once<K extends object, T>(build: (key: K) => T): (key: K) => T {
  const built = new WeakMap<K, T>();
  return (key) => {
    let value = built.get(key);
    if (value === undefined) built.set(key, (value = build(key)));
    return value;
  };
}
