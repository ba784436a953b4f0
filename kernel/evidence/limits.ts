// Resource limits for reading a pack from an untrusted source (docs/spec/evidence-pack.md §Limits).
// The pack is inflated as a stream and only member contents are held, so the decompressed bytes in
// memory never exceed maxTotalBytes whatever the compression ratio: a gzip bomb is refused at the
// header that claims too much, or when the members or the output pass the caps. The defaults
// (256 MiB) fit a pack of about 200 000 entries (about 1 KiB each); larger packs need a larger
// limit, chosen by whoever verifies them, with the memory to match.

export interface PackLimits {
  /** Members in the tar (files and directories). */
  maxEntries: number;
  /** Bytes of one member. */
  maxFileBytes: number;
  /** Bytes of all members together (also caps the decompressed tar). */
  maxTotalBytes: number;
}

export const DEFAULT_LIMITS: PackLimits = {
  maxEntries: 250_000,
  maxFileBytes: 256 * 1024 * 1024,
  maxTotalBytes: 256 * 1024 * 1024,
};

export function withDefaults(l: Partial<PackLimits> | undefined): PackLimits {
  return { ...DEFAULT_LIMITS, ...(l ?? {}) };
}
