// helmctl serve: run the Guardian sidecar in the foreground (docs/sidecar.md).
import { serveUsage } from '../../sidecar/config/load.js';
import { runSidecar } from '../../sidecar/serve.js';
import type { Command } from './command.js';

export const serve: Command = {
  name: 'serve',
  usage: serveUsage(),
  run: (argv, io) => runSidecar(argv, io),
};
