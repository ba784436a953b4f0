package org.mindburn.helm;

import java.math.BigInteger;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/** A signed-note verifier key: name+&lt;8 hex key id&gt;+base64(type ‖ public key). */
public record VerifierKey(String name, int alg, byte[] publicKey, String keyId) {
  public static final int ALG_ED25519 = 0x01;
  public static final int ALG_COSIGNATURE_V1 = 0x04;
  private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

  /** name+keyid: the DSSE keyid HELM writes. */
  public String handle() {
    return name + "+" + keyId;
  }

  public String vkey() {
    byte[] raw = new byte[33];
    raw[0] = (byte) alg;
    System.arraycopy(publicKey, 0, raw, 1, 32);
    return handle() + "+" + Base64.getEncoder().encodeToString(raw);
  }

  public boolean verify(byte[] msg, byte[] sig) {
    return verifyEd25519(publicKey, msg, sig);
  }

  /** Ed25519 verification (the JDK's); false for malformed keys or signatures. */
  public static boolean verifyEd25519(byte[] publicKey, byte[] msg, byte[] sig) {
    if (publicKey.length != 32 || sig.length != 64) return false;
    try {
      byte[] der = Arrays.copyOf(X509_PREFIX, 44);
      System.arraycopy(publicKey, 0, der, 12, 32);
      PublicKey pk = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
      Signature s = Signature.getInstance("Ed25519");
      s.initVerify(pk);
      s.update(msg);
      return s.verify(sig);
    } catch (Exception e) {
      return false;
    }
  }

  /** First 4 bytes of SHA-256(name ‖ LF ‖ type ‖ public key), hex. */
  public static String keyId(String name, int alg, byte[] publicKey) {
    byte[] n = (name + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] m = new byte[n.length + 1 + publicKey.length];
    System.arraycopy(n, 0, m, 0, n.length);
    m[n.length] = (byte) alg;
    System.arraycopy(publicKey, 0, m, n.length + 1, publicKey.length);
    return HexFormat.of().formatHex(Arrays.copyOf(Hashes.sha256(m), 4));
  }

  static boolean validName(String name) {
    return !name.isEmpty() && !name.contains("+") && name.codePoints().noneMatch(Character::isWhitespace);
  }

  static boolean validKeyId(String id) {
    return id.matches("[0-9a-f]{8}");
  }

  /** Standard padded base64, refusing every other encoding of the same bytes. */
  public static byte[] strictBase64(String s) throws HelmException {
    try {
      byte[] b = Base64.getDecoder().decode(s);
      if (Base64.getEncoder().encodeToString(b).equals(s)) return b;
    } catch (IllegalArgumentException e) {
      // fall through
    }
    throw new HelmException("ERR_BASE64", "not canonical standard base64 with padding");
  }

  /** Parses a vkey. */
  public static VerifierKey parse(String vkey) throws HelmException {
    String[] p = vkey.split("\\+", 3);
    if (p.length != 3 || !validName(p[0]) || !validKeyId(p[1])) throw new HelmException("ERR_KEY_FORMAT", "verifier key must be name+keyid+base64");
    byte[] raw;
    try {
      raw = strictBase64(p[2]);
    } catch (HelmException e) {
      throw new HelmException("ERR_KEY_FORMAT", "verifier key material is not base64");
    }
    if (raw.length != 33 || (raw[0] != ALG_ED25519 && raw[0] != ALG_COSIGNATURE_V1)) throw new HelmException("ERR_KEY_FORMAT", "verifier key material must be a type byte (0x01 or 0x04) + 32-byte Ed25519 key");
    byte[] pk = Arrays.copyOfRange(raw, 1, 33);
    if (!keyId(p[0], raw[0], pk).equals(p[1])) throw new HelmException("ERR_KEY_FORMAT", "key id " + p[1] + " does not match the key");
    return new VerifierKey(p[0], raw[0], pk, p[1]);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof VerifierKey k && k.handle().equals(handle()) && k.alg == alg && Arrays.equals(k.publicKey, publicKey);
  }

  @Override
  public int hashCode() {
    return new BigInteger(1, publicKey).hashCode() ^ handle().hashCode();
  }
}
