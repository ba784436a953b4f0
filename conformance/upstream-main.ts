// Entry of the conformance MCP upstream, as the kit's sidecar.yaml starts it:
// node dist/conformance/upstream-main.js KIT_DIR (a small entry, so it is ready quickly).
import { serveUpstream } from './upstream.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: upstream-main.js KIT_DIR\n');
  process.exit(2);
}
await serveUpstream(dir);
