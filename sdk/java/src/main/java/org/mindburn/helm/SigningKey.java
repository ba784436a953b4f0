package org.mindburn.helm;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.HexFormat;

/** A private key in HELM's key file format: PRIVATE+KEY+name+keyid+base64(0x01 ‖ 32-byte seed). */
public final class SigningKey {
  private static final byte[] PKCS8_PREFIX = HexFormat.of().parseHex("302e020100300506032b657004220420");
  private final VerifierKey verifier;
  private final PrivateKey key;

  private SigningKey(VerifierKey verifier, PrivateKey key) {
    this.verifier = verifier;
    this.key = key;
  }

  public VerifierKey verifier() {
    return verifier;
  }

  public byte[] sign(byte[] msg) {
    try {
      Signature s = Signature.getInstance("Ed25519");
      s.initSign(key);
      s.update(msg);
      return s.sign();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads a key file written by {@code helmctl keygen}. */
  public static SigningKey load(Path path) throws HelmException {
    try {
      return parse(Files.readString(path, StandardCharsets.UTF_8));
    } catch (java.io.IOException e) {
      throw new HelmException("ERR_KEY_FILE", path + ": " + e.getMessage());
    }
  }

  public static SigningKey parse(String text) throws HelmException {
    text = text.strip();
    if (!text.startsWith("PRIVATE+KEY+")) throw new HelmException("ERR_KEY_FORMAT", "private key must start with PRIVATE+KEY+ (write one with helmctl keygen)");
    String[] p = text.substring("PRIVATE+KEY+".length()).split("\\+", 3);
    if (p.length != 3 || !VerifierKey.validName(p[0]) || !VerifierKey.validKeyId(p[1])) throw new HelmException("ERR_KEY_FORMAT", "private key must be PRIVATE+KEY+name+keyid+base64");
    byte[] raw;
    try {
      raw = VerifierKey.strictBase64(p[2]);
    } catch (HelmException e) {
      raw = new byte[0];
    }
    if (raw.length != 33 || raw[0] != VerifierKey.ALG_ED25519) throw new HelmException("ERR_KEY_FORMAT", "private key material must be base64 of type 0x01 + 32-byte seed");
    try {
      byte[] der = Arrays.copyOf(PKCS8_PREFIX, 48);
      System.arraycopy(raw, 1, der, 16, 32);
      PrivateKey k = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(der));
      byte[] pub = publicKeyOf(k, Arrays.copyOfRange(raw, 1, 33));
      if (!VerifierKey.keyId(p[0], VerifierKey.ALG_ED25519, pub).equals(p[1])) throw new HelmException("ERR_KEY_FORMAT", "key id " + p[1] + " does not match the key");
      return new SigningKey(new VerifierKey(p[0], VerifierKey.ALG_ED25519, pub, p[1]), k);
    } catch (java.security.GeneralSecurityException e) {
      throw new HelmException("ERR_KEY_FORMAT", "bad Ed25519 seed: " + e.getMessage());
    }
  }

  /** The JDK computes a public key only while generating a pair: generate it from the seed as the randomness. */
  private static byte[] publicKeyOf(PrivateKey k, byte[] seed) throws java.security.GeneralSecurityException {
    java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("Ed25519");
    g.initialize(java.security.spec.NamedParameterSpec.ED25519, new java.security.SecureRandom() {
      @Override
      public void nextBytes(byte[] bytes) {
        System.arraycopy(seed, 0, bytes, 0, bytes.length);
      }
    });
    byte[] x509 = g.generateKeyPair().getPublic().getEncoded();
    return Arrays.copyOfRange(x509, x509.length - 32, x509.length);
  }
}
