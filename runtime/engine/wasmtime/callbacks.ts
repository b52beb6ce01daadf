import { koffi, EPOCH_CALLBACK, FUNC_CALLBACK, RESOURCE_DESTRUCTOR, type Ptr } from './ffi.js';

/**
 * The three kinds of call Wasmtime makes back into JavaScript, each registered once per thread
 * as one trampoline (koffi has a small fixed number of callback slots): the `env` pointer Wasmtime
 * hands back says which host function, resource type or store is meant.
 */
export interface CallbackTargets {
  hostFunc(env: Ptr, ctx: Ptr, args: Ptr, nargs: number, results: Ptr, nresults: number): Ptr;
  resourceDrop(env: Ptr, ctx: Ptr, rep: number): Ptr;
  epoch(ctx: Ptr, env: Ptr, delta: Ptr, kind: Ptr): Ptr;
}

export interface Trampolines {
  hostFunc: Ptr;
  resourceDrop: Ptr;
  epoch: Ptr;
}

let registered: Trampolines | undefined;
let targets: CallbackTargets | undefined;

export function trampolines(to: CallbackTargets): Trampolines {
  targets = to;
  if (registered) return registered;
  const func = koffi.proto(FUNC_CALLBACK);
  const dtor = koffi.proto(RESOURCE_DESTRUCTOR);
  const epoch = koffi.proto(EPOCH_CALLBACK);
  registered = {
    hostFunc: koffi.register(
      (env: Ptr, ctx: Ptr, _ty: Ptr, args: Ptr, nargs: number | bigint, results: Ptr, nresults: number | bigint) =>
        targets!.hostFunc(env, ctx, args, Number(nargs), results, Number(nresults)),
      koffi.pointer(func),
    ),
    resourceDrop: koffi.register((env: Ptr, ctx: Ptr, rep: number) => targets!.resourceDrop(env, ctx, rep), koffi.pointer(dtor)),
    epoch: koffi.register((ctx: Ptr, env: Ptr, delta: Ptr, kind: Ptr) => targets!.epoch(ctx, env, delta, kind), koffi.pointer(epoch)),
  };
  return registered;
}
