package org.mindburn.helm;

/** Every failure: {@code code} is the registered code the TypeScript verifier uses for the same failure. */
public class HelmException extends Exception {
  private final String code;

  public HelmException(String code, String message) {
    super(code + ": " + message);
    this.code = code;
  }

  public String code() {
    return code;
  }
}
