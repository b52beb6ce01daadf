/**
 * A ustar archive of small regular files, built synchronously: the same bytes tar-stream's pack
 * writes for `{mode: 0o644, mtime: epoch, uid: 0, gid: 0, uname: '', gname: ''}` entries (the
 * bundle renderer's), without a stream per archive. Only names tar-stream writes as a plain
 * ustar header (ASCII, at most 100 bytes) are taken; `undefined` tells the caller to use
 * tar-stream itself (which then writes a pax or prefix header).
 */
export interface TarFile {
  name: string;
  bytes: Buffer;
}

const BLOCK = 512;
const END_OF_ARCHIVE = 1024;

function octal(value: number, digits: number): string {
  const s = value.toString(8);
  return s.length > digits ? '7'.repeat(digits) + ' ' : '0'.repeat(digits - s.length) + s + ' ';
}

function header(name: string, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 'latin1');
  h.write(octal(0o644, 6), 100, 'latin1');
  h.write(octal(0, 6), 108, 'latin1');
  h.write(octal(0, 6), 116, 'latin1');
  h.write(octal(size, 11), 124, 'latin1');
  h.write(octal(0, 11), 136, 'latin1');
  h[156] = 0x30; // '0': a regular file
  h.write('ustar\u000000', 257, 'latin1');
  h.write(octal(0, 6), 329, 'latin1');
  h.write(octal(0, 6), 337, 'latin1');
  // The checksum counts its own field as eight spaces.
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += h[i]!;
  for (let i = 156; i < BLOCK; i++) sum += h[i]!;
  h.write(octal(sum, 6), 148, 'latin1');
  return h;
}

export function tarFiles(files: readonly TarFile[]): Buffer | undefined {
  if (!files.every((f) => /^[\x20-\x7e]{1,100}$/.test(f.name) && f.bytes.length < 0o77777777777)) return undefined;
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(header(f.name, f.bytes.length), f.bytes);
    const pad = (BLOCK - (f.bytes.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(END_OF_ARCHIVE));
  return Buffer.concat(parts);
}
