import { koffi, type Ptr, type WasmtimeApi } from './ffi.js';

/**
 * Reading and writing native memory by address. Every read goes through here, so the layout
 * facts (wasmtime_component_val_t is 32 bytes, payload at 8; wasm_name_t is {size, data}) are
 * stated once.
 */
export const VAL_SIZE = 32;
export const PAYLOAD = 8n;
export const NAME_SIZE = 16;
/** wasmtime_component_valrecord_entry_t: a wasm_name_t, then a value. */
export const ENTRY_SIZE = NAME_SIZE + VAL_SIZE;
/** wasmtime_component_valtype_t: a kind byte, then a pointer (or nothing). */
export const VALTYPE_SIZE = 16;

export const u8 = (p: Ptr): number => koffi.decode.uint8(p);
export const u32 = (p: Ptr): number => koffi.decode.uint32(p);
// decode.uint64 is twice as fast as decode(p, 'void *') (measured: 0.10 µs against 0.23 µs), and
// an x86-64 or AArch64 user-space address fits a Number exactly.
export const ptr = (p: Ptr): Ptr => BigInt(koffi.decode.uint64(p) as number | bigint);
export const size = (p: Ptr): number => Number(koffi.decode.uint64(p));

export function writeU8(p: Ptr, value: number): void {
  koffi.encode(p, 'uint8_t', value);
}
export function writePtr(p: Ptr, value: Ptr): void {
  koffi.encode(p, 'void *', value);
}

/** A wasm_name_t (or any wasm_byte_vec_t) at `p`, as UTF-8 text. */
export function nameAt(p: Ptr): string {
  return textOfSize(p, size(p));
}

/** The same, its size `n` already read (a host call's strings are lifted on every call). */
export function textOfSize(p: Ptr, n: number): string {
  return n === 0 ? '' : koffi.decode.string(ptr(p + 8n), n);
}

export function bytesAt(p: Ptr): Uint8Array {
  const n = size(p);
  return n === 0 ? new Uint8Array(0) : (koffi.decode(ptr(p + 8n), 'uint8_t', n) as Uint8Array);
}

/** Text from a (pointer, length) pair Wasmtime wrote into two out-slots. */
export function textOut(dataOut: Ptr, lenOut: Ptr): string {
  const n = size(lenOut);
  return n === 0 ? '' : koffi.decode.string(ptr(dataOut), n);
}

const encoder = new TextEncoder();

/** Writes a wasm_byte_vec_t owned by Wasmtime (it frees it with the value that holds it). */
export function writeBytes(api: WasmtimeApi, at: Ptr, bytes: Uint8Array): void {
  api.wasm_byte_vec_new(at, bytes.length, bytes.length === 0 ? null : bytes);
}
export function writeText(api: WasmtimeApi, at: Ptr, text: string): void {
  writeBytes(api, at, encoder.encode(text));
}

/** Native memory Berth owns (freed by `free`), zeroed, for out-parameters and argument arrays. */
export function alloc(bytes: number): Ptr {
  const p = koffi.alloc('uint8_t', bytes) as Ptr;
  zero(p, bytes);
  return p;
}
export function free(p: Ptr): void {
  koffi.free(p);
}

/**
 * koffi makes a type per array length; made once per length (making one costs tens of
 * microseconds), with the zeros it writes (only ever read).
 */
const zeroesOfLength = new Map<number, { type: unknown; zeroes: Uint8Array }>();
export function zero(p: Ptr, bytes: number): void {
  let known = zeroesOfLength.get(bytes);
  if (!known) zeroesOfLength.set(bytes, (known = { type: koffi.array('uint8_t', bytes), zeroes: new Uint8Array(bytes) }));
  koffi.encode(p, known.type as never, known.zeroes);
}

/** Reads and frees a wasmtime_error_t: its message. */
export function takeError(api: WasmtimeApi, error: Ptr, scratch: Ptr): string {
  api.wasmtime_error_message(error, scratch);
  const message = nameAt(scratch);
  api.wasm_byte_vec_delete(scratch);
  api.wasmtime_error_delete(error);
  return message;
}

export function cstr(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}
