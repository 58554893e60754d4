// A viewer request the server answered with a typed error (code + message).
export class RequestFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
