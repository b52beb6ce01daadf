import { z } from 'zod';

/**
 * The WebAssembly engine an app runs on (docs/engine.md). `auto` picks Wasmtime wherever its
 * pinned library can be had, else jco; what runs is recorded per app in its account and status.
 */
export const ENGINES = ['wasmtime', 'jco'] as const;
export type EngineKind = (typeof ENGINES)[number];
export const ENGINE_CHOICES = ['auto', ...ENGINES] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];
export const engineChoiceSchema = z.enum(ENGINE_CHOICES);

/**
 * Wasmtime's compiler (docs/engine.md): Winch (the default) compiles a large component about five
 * times faster and runs it slower; Cranelift the other way round. Part of the artifact cache key.
 */
export const WASMTIME_COMPILERS = ['winch', 'cranelift'] as const;
export type WasmtimeCompiler = (typeof WASMTIME_COMPILERS)[number];
export const wasmtimeCompilerSchema = z.enum(WASMTIME_COMPILERS);

/** An engine and its version, as accounts, status reports and capabilities name it (`wasmtime@49.0.0+winch`, `v8+jco@1.35.0`). */
export const engineNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-z0-9][a-z0-9@.+_-]*$/i, 'an engine name like wasmtime@49.0.0+winch');

/** The engine a device runs its apps on, as its capabilities report it (`x-berth-extensions.engine`). */
export const deviceEngineSchema = z.object({ kind: z.enum(ENGINES), name: engineNameSchema });
export type DeviceEngine = z.infer<typeof deviceEngineSchema>;
