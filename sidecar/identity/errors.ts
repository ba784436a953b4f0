// Why a certification attempt failed. Each one is retried (with backoff); the code and message go to
// the log and to /readyz so an operator sees what to fix.
export type CertifyErrorCode =
  | 'ERR_CERTIFY_TOKEN' // the projected token file cannot be read
  | 'ERR_CERTIFY_CA' // the CA (inline PEM or file) cannot be read
  | 'ERR_CERTIFY_UNREACHABLE' // connection, TLS or timeout
  | 'ERR_CERTIFY_REFUSED' // the operator answered 4xx/5xx (its JSON code is in the message)
  | 'ERR_CERTIFY_ANSWER' // a 200 whose events do not bind exactly these keys and origin under the root
  | 'ERR_CERTIFY_RECORD'; // the trust nodes could not be recorded

export class CertifyError extends Error {
  constructor(
    readonly code: CertifyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CertifyError';
  }
}
