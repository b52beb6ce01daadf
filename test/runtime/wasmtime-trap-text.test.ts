import { describe, expect, it } from 'vitest';
import { trapText } from '../../runtime/engine/wasmtime/trap-text.js';

// Wasmtime's error text as wasmtime_error_message gives it (anyhow's debug form), shortened to
// what a status report and a rollback message carry.
describe("Wasmtime's error text in one line", () => {
  it('says the root cause and the frame that trapped', () => {
    const raw = [
      'error while executing at wasm backtrace:',
      '    0:     0x26 - trap.wasm!run',
      '    1:     0x40 - <unknown>!<wasm function 3>',
      '',
      'Caused by:',
      '    wasm trap: wasm `unreachable` instruction executed',
    ].join('\n');
    expect(trapText(raw)).toBe('wasm `unreachable` instruction executed (in trap.wasm!run)');
  });

  it('takes the last of a numbered cause chain', () => {
    const raw = ['failed to instantiate', '', 'Caused by:', '    0: start function failed', '    1: out of bounds memory access'].join('\n');
    expect(trapText(raw)).toBe('out of bounds memory access');
  });

  it('keeps a one-line message as it is', () => {
    expect(trapText('import `berth:host/log@0.1.0` has the wrong type')).toBe('import `berth:host/log@0.1.0` has the wrong type');
  });

  it('never returns a line break', () => {
    const raw =
      'error while executing at wasm backtrace:\n    0: 0x1 - <unknown>!<wasm function 0>\nnote: using the `WASMTIME_BACKTRACE_DETAILS=1` environment variable may show more debugging information';
    expect(trapText(raw)).not.toContain('\n');
    expect(trapText(raw)).toBe('error while executing (in <unknown>!<wasm function 0>)');
  });
});
