package org.mindburn.helm;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 helpers. */
public final class Hashes {
  private Hashes() {}

  public static byte[] sha256(byte[]... parts) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      for (byte[] p : parts) d.update(p);
      return d.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** "sha256:" + hex(SHA-256(b)). */
  public static String hashRef(byte[] b) {
    return "sha256:" + HexFormat.of().formatHex(sha256(b));
  }
}
