// Answers of POST /v1/certify that are not a certification: HTTP status plus a JSON {code, message}
// that names what is wrong and how to fix it.
export type CertifyCode =
  | 'ERR_CERTIFY_UNAUTHENTICATED' // 401: no bearer token, or the TokenReview did not authenticate it
  | 'ERR_CERTIFY_FORBIDDEN' // 403: the token's pod/ServiceAccount does not match the request, or the pod is not ours
  | 'ERR_CERTIFY_BAD_REQUEST' // 400: body is not the certification request
  | 'ERR_CERTIFY_METHOD' // 405
  | 'ERR_CERTIFY_UNAVAILABLE'; // 503: the API server could not be asked

export class CertifyRefusal extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 405 | 503,
    readonly code: CertifyCode,
    message: string,
  ) {
    super(message);
  }

  body(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

export const unauthenticated = (m: string) => new CertifyRefusal(401, 'ERR_CERTIFY_UNAUTHENTICATED', m);
export const forbidden = (m: string) => new CertifyRefusal(403, 'ERR_CERTIFY_FORBIDDEN', m);
export const badRequest = (m: string) => new CertifyRefusal(400, 'ERR_CERTIFY_BAD_REQUEST', m);
