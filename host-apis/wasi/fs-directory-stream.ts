/** The `directory-entry-stream` resource: a snapshot of one directory's entries, read in turn. */
import type { Dirent } from 'node:fs';
import { descriptorTypeOf, type DirectoryEntry } from './fs-types.js';

export class DirectoryEntryStream {
  readonly #entries: Dirent[];
  #next = 0;

  constructor(entries: Dirent[]) {
    this.#entries = entries;
  }

  readDirectoryEntry(): DirectoryEntry | undefined {
    const entry = this.#entries[this.#next];
    if (entry === undefined) return undefined;
    this.#next += 1;
    return { type: descriptorTypeOf(entry), name: entry.name };
  }
}
