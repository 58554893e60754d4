// Named errors an app can meet through the SDK.
export class SdkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The app called the SDK outside a Lockstep host (no renderer or sandbox installed one). */
export class NoHostError extends SdkError {}

/** `loadFont` for a family the app's manifest does not declare. */
export class FontNotFoundError extends SdkError {
  constructor(readonly family: string) {
    super(`no font family "${family}" (declare it in the app manifest's fonts)`);
  }
}

/** Bytes that are not valid UTF-8. */
export class Utf8Error extends SdkError {}
