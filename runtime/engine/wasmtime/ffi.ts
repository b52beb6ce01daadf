import koffi from 'koffi';

/**
 * The part of Wasmtime's C API (version pinned in pin.ts) that Berth calls, declared once.
 * Every pointer is a BigInt (koffi 3), so addresses cross worker threads as plain values; a
 * wrong declaration here corrupts memory, so each line follows the C header of that version
 * (`wasmtime/_bindings.py` in the pinned wheel is generated from those headers).
 */
export type Ptr = bigint;

const P = 'void *';
const SIG = {
  wasm_config_new: [P, []],
  wasmtime_config_epoch_interruption_set: ['void', [P, 'bool']],
  wasmtime_config_strategy_set: ['void', [P, 'uint8_t']],
  wasmtime_config_cranelift_opt_level_set: ['void', [P, 'uint8_t']],
  wasmtime_config_max_wasm_stack_set: ['void', [P, 'size_t']],
  wasmtime_config_parallel_compilation_set: ['void', [P, 'bool']],
  wasmtime_config_memory_reservation_set: ['void', [P, 'uint64_t']],
  wasmtime_config_memory_guard_size_set: ['void', [P, 'uint64_t']],
  wasmtime_config_wasm_component_model_set: ['void', [P, 'bool']],
  wasm_engine_new_with_config: [P, [P]],
  wasmtime_engine_increment_epoch: ['void', [P]],

  wasmtime_error_new: [P, ['const char *']],
  wasmtime_error_message: ['void', [P, P]],
  wasmtime_error_delete: ['void', [P]],
  wasm_byte_vec_new: ['void', [P, 'size_t', P]],
  wasm_byte_vec_delete: ['void', [P]],

  wasmtime_store_new: [P, [P, P, P]],
  wasmtime_store_context: [P, [P]],
  wasmtime_store_delete: ['void', [P]],
  wasmtime_store_limiter: ['void', [P, 'int64_t', 'int64_t', 'int64_t', 'int64_t', 'int64_t']],
  wasmtime_store_epoch_deadline_callback: ['void', [P, P, P, P]],
  wasmtime_context_set_epoch_deadline: ['void', [P, 'uint64_t']],
  wasmtime_context_get_data: [P, [P]],

  wasmtime_component_new: [P, [P, P, 'size_t', P]],
  wasmtime_component_serialize: [P, [P, P]],
  wasmtime_component_deserialize: [P, [P, P, 'size_t', P]],
  wasmtime_component_deserialize_file: [P, [P, 'const char *', P]],
  wasmtime_component_delete: ['void', [P]],
  wasmtime_component_type: [P, [P]],
  wasmtime_component_type_delete: ['void', [P]],
  wasmtime_component_type_import_count: ['size_t', [P, P]],
  wasmtime_component_type_import_nth: ['bool', [P, P, 'size_t', P, P, P]],
  wasmtime_component_type_export_count: ['size_t', [P, P]],
  wasmtime_component_type_export_nth: ['bool', [P, P, 'size_t', P, P, P]],
  wasmtime_component_extern_type: ['void', [P, P]],
  wasmtime_component_extern_delete: ['void', [P]],
  wasmtime_component_item_delete: ['void', [P]],
  wasmtime_component_instance_type_export_count: ['size_t', [P, P]],
  wasmtime_component_instance_type_export_nth: ['bool', [P, P, 'size_t', P, P, P]],

  wasmtime_component_func_type_param_count: ['size_t', [P]],
  wasmtime_component_func_type_param_nth: ['bool', [P, 'size_t', P, P, P]],
  wasmtime_component_func_type_result: ['bool', [P, P]],
  wasmtime_component_valtype_delete: ['void', [P]],
  wasmtime_component_list_type_element: ['void', [P, P]],
  wasmtime_component_record_type_field_count: ['size_t', [P]],
  wasmtime_component_record_type_field_nth: ['bool', [P, 'size_t', P, P, P]],
  wasmtime_component_tuple_type_types_count: ['size_t', [P]],
  wasmtime_component_tuple_type_types_nth: ['bool', [P, 'size_t', P]],
  wasmtime_component_variant_type_case_count: ['size_t', [P]],
  wasmtime_component_variant_type_case_nth: ['bool', [P, 'size_t', P, P, P, P]],
  wasmtime_component_enum_type_names_count: ['size_t', [P]],
  wasmtime_component_enum_type_names_nth: ['bool', [P, 'size_t', P, P]],
  wasmtime_component_flags_type_names_count: ['size_t', [P]],
  wasmtime_component_flags_type_names_nth: ['bool', [P, 'size_t', P, P]],
  wasmtime_component_option_type_ty: ['void', [P, P]],
  wasmtime_component_result_type_ok: ['bool', [P, P]],
  wasmtime_component_result_type_err: ['bool', [P, P]],
  wasmtime_component_resource_type_new_host: [P, ['uint32_t']],
  wasmtime_component_resource_type_delete: ['void', [P]],
  wasmtime_component_resource_type_clone: [P, [P]],
  wasmtime_component_resource_type_equal: ['bool', [P, P]],
  wasmtime_component_resource_any_type: [P, [P]],
  wasmtime_component_resource_any_owned: ['bool', [P]],
  wasmtime_component_resource_any_delete: ['void', [P]],
  wasmtime_component_resource_any_drop: [P, [P, P]],
  wasmtime_component_resource_any_to_host: [P, [P, P, P]],
  wasmtime_component_resource_host_new: [P, ['bool', 'uint32_t', 'uint32_t']],
  wasmtime_component_resource_host_rep: ['uint32_t', [P]],
  wasmtime_component_resource_host_type: ['uint32_t', [P]],
  wasmtime_component_resource_host_owned: ['bool', [P]],
  wasmtime_component_resource_host_delete: ['void', [P]],
  wasmtime_component_resource_host_to_any: [P, [P, P, P]],

  wasmtime_component_val_new: [P, [P]],
  wasmtime_component_val_delete: ['void', [P]],
  wasmtime_component_vallist_new_uninit: ['void', [P, 'size_t']],
  wasmtime_component_valrecord_new_uninit: ['void', [P, 'size_t']],
  wasmtime_component_valtuple_new_uninit: ['void', [P, 'size_t']],
  wasmtime_component_valflags_new_uninit: ['void', [P, 'size_t']],

  wasmtime_component_linker_new: [P, [P]],
  wasmtime_component_linker_delete: ['void', [P]],
  wasmtime_component_linker_root: [P, [P]],
  wasmtime_component_linker_instance_add_instance: [P, [P, P, 'size_t', P]],
  wasmtime_component_linker_instance_add_func: [P, [P, P, 'size_t', P, P, P]],
  wasmtime_component_linker_instance_add_resource: [P, [P, P, 'size_t', P, P, P, P]],
  wasmtime_component_linker_instance_delete: ['void', [P]],
  wasmtime_component_linker_instantiate: [P, [P, P, P, P]],

  wasmtime_component_instance_get_export_index: [P, [P, P, P, P, 'size_t']],
  wasmtime_component_instance_get_func: ['bool', [P, P, P, P]],
  wasmtime_component_export_index_delete: ['void', [P]],
  wasmtime_component_func_type: [P, [P, P]],
  wasmtime_component_func_type_delete: ['void', [P]],
  wasmtime_component_func_call: [P, [P, P, P, 'size_t', P, 'size_t']],
  wasmtime_component_func_post_return: [P, [P, P]],
} satisfies Record<string, [string, string[]]>;

export type WasmtimeApi = { [K in keyof typeof SIG]: (...args: unknown[]) => unknown };

/** Callback shapes Wasmtime calls back into: one registered trampoline per shape per thread. */
export const FUNC_CALLBACK = 'void *berth_func_cb(void *env, void *ctx, void *ty, void *args, size_t nargs, void *results, size_t nresults)';
export const RESOURCE_DESTRUCTOR = 'void *berth_resource_dtor(void *env, void *ctx, uint32_t rep)';
export const EPOCH_CALLBACK = 'void *berth_epoch_cb(void *ctx, void *env, void *delta, void *kind)';

let loaded: { path: string; api: WasmtimeApi } | undefined;

/** Loads the library once per thread (the process maps it once); its hash was checked by library.ts. */
export function wasmtimeApi(path: string): WasmtimeApi {
  if (loaded) {
    if (loaded.path !== path) throw new Error(`Wasmtime is already loaded from ${loaded.path}, not ${path}`);
    return loaded.api;
  }
  const lib = koffi.load(path);
  const api = {} as Record<string, unknown>;
  for (const [name, [result, params]] of Object.entries(SIG)) api[name] = lib.func(name, result, params);
  loaded = { path, api: api as WasmtimeApi };
  return loaded.api;
}

export { koffi };
