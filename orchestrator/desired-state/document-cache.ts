/**
 * Rendered documents by digest, in memory, bounded by their total size (oldest out first).
 * Content-addressed, so an entry is right whoever asks; *whether* a device may read it is decided
 * by the caller (the device's own manifest names it), never by this cache.
 */
export class DocumentCache {
  private readonly entries = new Map<string, { mediaType: string; bytes: Buffer }>();
  private bytes = 0;

  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  get(digest: string): { mediaType: string; bytes: Buffer } | undefined {
    return this.entries.get(digest);
  }

  put(digest: string, mediaType: string, bytes: Buffer): void {
    if (this.entries.has(digest) || bytes.length > this.maxBytes / 16) return;
    this.entries.set(digest, { mediaType, bytes });
    this.bytes += bytes.length;
    while (this.bytes > this.maxBytes) {
      const [oldest, entry] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes.length;
    }
  }
}
