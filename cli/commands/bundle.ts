// helmctl bundle hash|sign|verify|lint|test|compose: policy bundle tooling (docs/spec/policy-bundle.md).
import { UsageError } from '../io.js';
import { composeCmd, USAGE as COMPOSE } from './bundle/compose.js';
import { hashCmd, USAGE as HASH } from './bundle/hash.js';
import { lintCmd, USAGE as LINT } from './bundle/lint.js';
import { signCmd, USAGE as SIGN } from './bundle/sign.js';
import { testCmd, USAGE as TEST } from './bundle/test.js';
import { verifyCmd, USAGE as VERIFY } from './bundle/verify.js';
import type { Command } from './command.js';

const ACTIONS = { hash: hashCmd, sign: signCmd, verify: verifyCmd, lint: lintCmd, test: testCmd, compose: composeCmd } as const;

export const bundle: Command = {
  name: 'bundle',
  usage: [HASH, SIGN, VERIFY, LINT, TEST, COMPOSE].join('\n'),
  async run(argv, io) {
    const [action, ...rest] = argv;
    if (action === undefined || !Object.hasOwn(ACTIONS, action)) throw new UsageError(`expected an action: ${Object.keys(ACTIONS).join(', ')}`);
    return ACTIONS[action as keyof typeof ACTIONS](rest, io);
  },
};
