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
