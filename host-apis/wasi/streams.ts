/**
 * `wasi:io/error` and `wasi:io/streams`: thin resource classes around small handler objects.
 *
 * The classes hold no authority and may be shared by every app in a thread; each instance is
 * created by a host API (stdout, a file) with a handler that carries what that stream may do.
 * Stream errors are thrown as jco expects: `{ tag: 'closed' }` or
 * `{ tag: 'last-operation-failed', val: IoError }`.
 */
import { Pollable, readyPollable } from './poll.js';
import { clampU64, fail } from './result.js';
import type { FilesystemErrorCode } from './fs-errors.js';

export type StreamError = { tag: 'closed' } | { tag: 'last-operation-failed'; val: IoError };

/** Largest single read a guest gets, however much it asks for (the spec allows fewer bytes). */
export const MAX_READ_CHUNK = 1 << 20;
/** Bytes a guest may write before it must check again; also the blocking-write limit is 4096. */
export const WRITE_PERMIT = 1 << 20;
const BLOCKING_WRITE_LIMIT = 4096;

export class IoError {
  readonly #message: string;
  readonly #filesystemCode: FilesystemErrorCode | undefined;

  constructor(message: string, filesystemCode?: FilesystemErrorCode) {
    this.#message = message;
    this.#filesystemCode = filesystemCode;
  }

  toDebugString(): string {
    return this.#message;
  }

  /** @internal read by `filesystem-error-code`. */
  static filesystemCodeOf(err: IoError): FilesystemErrorCode | undefined {
    return err.#filesystemCode;
  }
}

export function streamClosed(): never {
  return fail<StreamError>({ tag: 'closed' });
}

export function streamFailed(message: string, filesystemCode?: FilesystemErrorCode): never {
  return fail<StreamError>({ tag: 'last-operation-failed', val: new IoError(message, filesystemCode) });
}

export interface InputStreamHandler {
  /** Returns up to `len` bytes (possibly none yet); throws a stream error at the end. */
  read(len: number): Uint8Array;
  drop?(): void;
}

export interface OutputStreamHandler {
  /** Accepts the whole buffer or throws a stream error. */
  write(bytes: Uint8Array): void;
  flush?(): void;
  drop?(): void;
}

export class InputStream {
  readonly #handler: InputStreamHandler;
  #open = true;

  constructor(handler: InputStreamHandler) {
    this.#handler = handler;
  }

  read(len: bigint): Uint8Array {
    const n = clampU64(len, MAX_READ_CHUNK);
    if (!this.#open) streamClosed();
    return n === 0 ? new Uint8Array(0) : this.#handler.read(n);
  }

  // Every source Berth has is in-thread and synchronous, so blocking and not blocking agree.
  blockingRead(len: bigint): Uint8Array {
    return this.read(len);
  }

  skip(len: bigint): bigint {
    return BigInt(this.read(len).byteLength);
  }

  blockingSkip(len: bigint): bigint {
    return this.skip(len);
  }

  subscribe(): Pollable {
    return readyPollable();
  }

  [Symbol.dispose](): void {
    if (!this.#open) return;
    this.#open = false;
    this.#handler.drop?.();
  }
}

export class OutputStream {
  readonly #handler: OutputStreamHandler;
  #open = true;
  #permit = 0;

  constructor(handler: OutputStreamHandler) {
    this.#handler = handler;
  }

  checkWrite(): bigint {
    if (!this.#open) streamClosed();
    this.#permit = WRITE_PERMIT;
    return BigInt(this.#permit);
  }

  write(contents: Uint8Array): void {
    if (!this.#open) streamClosed();
    // Writing past the permit is a guest bug the spec says traps.
    if (contents.byteLength > this.#permit) throw new Error('write exceeds the permit returned by check-write');
    this.#permit -= contents.byteLength;
    this.#handler.write(contents);
  }

  blockingWriteAndFlush(contents: Uint8Array): void {
    if (!this.#open) streamClosed();
    if (contents.byteLength > BLOCKING_WRITE_LIMIT) throw new Error('blocking-write-and-flush takes at most 4096 bytes');
    this.#handler.write(contents);
    this.#handler.flush?.();
  }

  flush(): void {
    if (!this.#open) streamClosed();
    this.#handler.flush?.();
  }

  blockingFlush(): void {
    this.flush();
  }

  writeZeroes(len: bigint): void {
    this.write(new Uint8Array(clampU64(len, WRITE_PERMIT + 1)));
  }

  blockingWriteZeroesAndFlush(len: bigint): void {
    this.blockingWriteAndFlush(new Uint8Array(clampU64(len, BLOCKING_WRITE_LIMIT + 1)));
  }

  splice(src: InputStream, len: bigint): bigint {
    if (!this.#open) streamClosed();
    const n = Math.min(clampU64(len, WRITE_PERMIT), WRITE_PERMIT);
    const bytes = src.read(BigInt(n));
    this.#handler.write(bytes);
    return BigInt(bytes.byteLength);
  }

  blockingSplice(src: InputStream, len: bigint): bigint {
    return this.splice(src, len);
  }

  subscribe(): Pollable {
    return readyPollable();
  }

  [Symbol.dispose](): void {
    if (!this.#open) return;
    this.#open = false;
    this.#handler.drop?.();
  }
}
