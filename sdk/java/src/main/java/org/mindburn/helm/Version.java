package org.mindburn.helm;

/** Versions: the SDK's major version is the version of docs/spec it implements. */
public final class Version {
  public static final int SPEC_VERSION = 1;
  public static final String SDK_VERSION = "1.0.0";

  private Version() {}
}
