package org.mindburn.helm;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class VersionTest {
  @Test
  void majorVersionIsTheSpecVersion() {
    assertTrue(Version.SDK_VERSION.startsWith(Version.SPEC_VERSION + "."));
  }
}
