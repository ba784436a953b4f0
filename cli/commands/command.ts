import type { Io } from '../io.js';

export interface Command {
  name: string;
  usage: string;
  run(argv: readonly string[], io: Io): Promise<number>;
}
