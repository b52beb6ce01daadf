import { BerthError } from '../common/errors.js';

/** A byte count as `--grant` takes it: bytes, or a number with a K, M or G suffix. */
export function parseSize(text: string): number {
  const m = /^(\d+)([KMG]i?B?)?$/i.exec(text.trim());
  if (!m) throw new BerthError('invalid-grant', `"${text}" is not a size (bytes, or a number with K, M or G)`);
  const unit = (m[2] ?? '').charAt(0).toUpperCase();
  const factor = unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1;
  return Number(m[1]) * factor;
}
