/**
 * The streams a file descriptor hands out (read-via-stream, write-via-stream, append-via-
 * stream). Each keeps its own position; a filesystem failure becomes a
 * `last-operation-failed` stream error whose `filesystem-error-code` is the WASI code.
 */
import { readAt, writeAt, type FileRef } from './fs-file.js';
import { toFilesystemErrorCode } from './fs-errors.js';
import { InputStream, OutputStream, streamClosed, streamFailed } from './streams.js';

function asStreamError(err: unknown): never {
  const code = toFilesystemErrorCode(err);
  return streamFailed(`filesystem error: ${code}`, code);
}

export function openFileStreams(file: FileRef): {
  reader(position: number): InputStream;
  writer(position: number | 'end'): OutputStream;
} {
  return {
    reader(start) {
      let position = start;
      return new InputStream({
        read(len) {
          let result: [Uint8Array, boolean];
          try {
            result = readAt(file, BigInt(len), BigInt(position));
          } catch (err) {
            return asStreamError(err);
          }
          const [bytes] = result;
          if (bytes.byteLength === 0) streamClosed();
          position += bytes.byteLength;
          return bytes;
        },
      });
    },
    writer(start) {
      let position = start;
      return new OutputStream({
        write(bytes) {
          let written: number;
          try {
            written = writeAt(file, bytes, position === 'end' ? 'end' : BigInt(position));
          } catch (err) {
            return asStreamError(err);
          }
          if (position !== 'end') position += written;
        },
      });
    },
  };
}
