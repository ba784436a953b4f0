// The Java SDK (sdk/java) against a live helmctl serve: `mvn -o test` with Debian's Maven
// repository (Jackson, JUnit 5, the compiler and Surefire plugins) runs its vector suites and its
// live test. Needs `npm run build` first.
import { existsSync } from 'node:fs';
import { vectorsDir } from '../support/shared.js';
import { useLiveSidecar } from '../sdk/live-sidecar.js';
import { describeWithToolchain, run, sdkDir, toolVersion } from './native.js';

const REPO = process.env.HELM_MAVEN_REPO ?? '/usr/share/maven-repo';
const mvn = toolVersion('mvn', ['-v']);
const java = toolVersion('java', ['-version']);
// The plugins and libraries the pom names, as Debian packages them.
const packaged = ['org/apache/maven/plugins/maven-surefire-plugin/2.22.3', 'org/apache/maven/plugins/maven-compiler-plugin/3.10.1', 'org/junit/jupiter/junit-jupiter-engine/5.9.2', 'com/fasterxml/jackson/core/jackson-databind/2.14.0'].every((p) => existsSync(`${REPO}/${p}`));

describeWithToolchain(
  'Java',
  mvn !== null && java !== null && packaged,
  'apt-get install -y openjdk-17-jdk-headless maven libjackson2-databind-java junit5 libmaven-compiler-plugin-java libsurefire-java libmaven-resources-plugin-java libmaven-jar-plugin-java',
)('Java SDK', () => {
  const live = useLiveSidecar({ mcp: true });

  it('passes its vectors and drives the live sidecar (allowed, denied, approved, verified offline)', async () => {
    const r = await run('mvn', ['-o', '-B', `-Dmaven.repo.local=${REPO}`, 'test'], sdkDir('java'), live().env());
    if (r.code !== 0) throw new Error(`mvn test failed (${java}):\n${r.out}\n--- sidecar log ---\n${live().stderr()}`);
    expect(r.out).toMatch(/liveSidecar: 7 receipts verified offline \(3 from the MCP gateway\)/);
    expect(r.out).toMatch(/Tests run: \d+, Failures: 0, Errors: 0, Skipped: 0\s*$/m);
    // The JCS and Wycheproof suites run whenever ../shared/vectors is there (they skip with a message otherwise).
    if (existsSync(vectorsDir)) expect(r.out).not.toMatch(/third-party vectors skipped/);
  }, 900_000);
});
