// The shipper's numbers on the sidecar's /metrics (the SidecarMetrics registry), read from
// Shipper.metrics at each scrape. A restarted sidecar starts the counters again from 0.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Shipper } from './shipper.js';

export function registerShipMetrics(registry: Registry, shipper: Shipper, highWaterBytes: number): void {
  const m = () => shipper.metrics;
  new Counter({
    name: 'helm_ship_entries_total',
    help: 'Log entries published to the fleet bucket (entry bundles and tiles).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(m().shippedEntries);
    },
  });
  new Counter({
    name: 'helm_ship_errors_total',
    help: 'Shipping rounds that failed (bucket, collector or checkpoint); the backlog grows until one succeeds.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(m().errors);
    },
  });
  new Gauge({
    name: 'helm_ship_unshipped_bytes',
    help: 'Log bytes above the size the collector last cosigned (the backlog).',
    registers: [registry],
    collect() {
      this.set(m().unshippedBytes);
    },
  });
  new Gauge({
    name: 'helm_ship_high_water_bytes',
    help: 'Backlog past which calls are denied RECEIPT_BACKLOG.',
    registers: [registry],
    collect() {
      this.set(highWaterBytes);
    },
  });
  new Gauge({
    name: 'helm_ship_lag_seconds',
    help: 'Seconds since the log last had nothing above the cosigned size (0 when caught up).',
    registers: [registry],
    collect() {
      this.set(m().shipLagSeconds);
    },
  });
  new Counter({
    name: 'helm_ship_freed_bytes_total',
    help: 'Log segment bytes freed from the volume below the cosigned size (HELM_SHIP_RETENTION=free-cosigned).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(m().freedBytes);
    },
  });
  new Gauge({
    name: 'helm_ship_log_base',
    help: 'First log index still on the volume (log-base.json); 0 while nothing was freed.',
    registers: [registry],
    collect() {
      this.set(m().logBase);
    },
  });
  new Gauge({
    name: 'helm_ship_cosigned_size',
    help: 'Size of the last writer checkpoint the fleet collector cosigned.',
    registers: [registry],
    collect() {
      this.set(m().cosignedSize);
    },
  });
}
