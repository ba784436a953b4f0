// Resource limits for reading a pack from an untrusted source. Defaults fit a pack of about one
// million nodes (entries average about 1 KiB, one entry is at most 64 KiB) with checkpoints every
// few hundred entries, on a machine with a few GiB of memory to spare.

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
  maxFileBytes: 1536 * 1024 * 1024,
  maxTotalBytes: 2 * 1024 * 1024 * 1024,
};

export function withDefaults(l: Partial<PackLimits> | undefined): PackLimits {
  return { ...DEFAULT_LIMITS, ...(l ?? {}) };
}
