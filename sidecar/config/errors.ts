// A configuration the sidecar cannot run with. The message names where the value came from
// (flag, environment variable or config-file key) so an operator can fix the right place.
export type ConfigErrorCode =
  | 'ERR_CONFIG_FILE'
  | 'ERR_CONFIG_UNKNOWN_KEY'
  | 'ERR_CONFIG_TYPE'
  | 'ERR_CONFIG_VALUE'
  | 'ERR_CONFIG_MISSING'
  | 'ERR_CONFIG_CONFLICT'
  | 'ERR_CONFIG_USAGE';

export class ConfigError extends Error {
  constructor(
    readonly code: ConfigErrorCode,
    message: string,
    readonly source?: string,
  ) {
    super(source ? `${source}: ${message}` : message);
    this.name = 'ConfigError';
  }
}
