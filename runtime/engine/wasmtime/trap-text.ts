/**
 * Wasmtime's error text is anyhow's debug form: a context line, a wasm backtrace and a
 * "Caused by:" chain. A status report, a rollback message or a log line wants one line saying
 * what happened and where, as a trap on the jco engine says it: the root cause and the frame
 * that trapped.
 */
export function trapText(raw: string): string {
  const caused = raw.lastIndexOf('Caused by:');
  const context = caused === -1 ? raw : raw.slice(0, caused);
  const causes = caused === -1 ? [] : lines(raw.slice(caused + 'Caused by:'.length)).map((l) => l.replace(/^\d+:\s*/, ''));
  const frame = innermostFrame(context);
  const what =
    causes.length > 0
      ? causes[causes.length - 1]!.replace(/^wasm trap:\s*/, '')
      : (lines(context.replace(/\s*(at\s+)?wasm backtrace:[\s\S]*/, ''))[0] ?? raw.trim());
  const text = frame ? `${what} (in ${frame})` : what;
  return text.replace(/\s*:\s*$/, '');
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/** `0: 0x26 - app.wasm!run` → `app.wasm!run`; Wasmtime lists the innermost frame first. */
function innermostFrame(context: string): string | undefined {
  const start = context.indexOf('wasm backtrace:');
  if (start === -1) return undefined;
  const first = lines(context.slice(start + 'wasm backtrace:'.length)).find((l) => /^\d+:/.test(l));
  const match = first?.match(/^\d+:\s*(?:0x[0-9a-f]+\s*-\s*)?(.+)$/i);
  return match?.[1]?.trim();
}
