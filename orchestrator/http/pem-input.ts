import { validationProblem } from './problem.js';

/**
 * A PEM field of an admin request, parsed strictly: exactly one block with the expected label,
 * base64 that decodes, and nothing else but whitespace around it. A lenient reader takes the
 * first thing that looks like PEM and ignores the rest; an operator who pasted the wrong file, or
 * two, must hear so (422 naming the field) before anything changes.
 */
const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)\r?\n?-----END \1-----/g;

/** The DER of the one `label` block in `text`, or a 422 with `code` naming `field`. */
export function strictPemBlock(field: string, text: string, label: string, code: string): Uint8Array {
  const refuse = (message: string) => validationProblem([{ field, message }], code);
  const blocks = [...text.matchAll(BLOCK)];
  if (blocks.length === 0) throw refuse(`must be one PEM block '${label}'`);
  if (blocks.length > 1) throw refuse(`must be exactly one PEM block, not ${blocks.length}`);
  const [block] = blocks;
  if (block![1] !== label) throw refuse(`must be a '${label}' PEM block, not '${block![1]}'`);
  if (text.replace(block![0], '').trim() !== '') throw refuse('holds text besides its PEM block');
  const base64 = block![2]!.replace(/\s+/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(base64) || base64.length === 0) throw refuse('its PEM body is not base64');
  return new Uint8Array(Buffer.from(base64, 'base64'));
}
