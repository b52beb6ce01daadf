import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.js';
import { parseAgentConfig } from '../../runtime/agent/config.js';
import { deviceEngineOf, selectDeviceEngine } from '../../runtime/agent/engine.js';
import { suiteTempDir } from '../support/tmp.js';
import { wasmtimeLibrary } from '../support/engines.js';

// A file of its own: one process runs one Wasmtime engine, so one compiler, and the other
// agent tests make theirs with Winch.
describe("the device's Wasmtime compiler", () => {
  it('runtime.wasmtimeCompiler: cranelift makes the device engine compile with Cranelift, and its capabilities say so', async () => {
    const dir = suiteTempDir('agent-compiler');
    const config = parseAgentConfig(
      {
        controlPlane: { url: 'https://cp.example:8443', ca: 'ca.pem' },
        dataDir: 'data',
        runtime: { engine: 'wasmtime', wasmtimeLibrary: await wasmtimeLibrary(), wasmtimeCompiler: 'cranelift' },
      },
      dir,
    );
    const { engine, fallback } = await selectDeviceEngine(config, silentLogger);
    expect(fallback).toBeUndefined();
    expect(deviceEngineOf(engine)).toEqual({ kind: 'wasmtime', name: expect.stringMatching(/^wasmtime@\d+\.\d+\.\d+\+cranelift$/) });
  });
});
