// The Guardian sidecar: one ProofGraph writer, one PEP, the governed listener (the surfaces the
// agent calls) and the admin listener (probes, metrics, approvals), plus the timers around them:
// heartbeats and bundle hot reload. start() brings them up in dependency order; stop() takes
// them down in reverse, so that every call taken is answered and recorded before the final
// shutdown heartbeat and checkpoint close the log.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { nodeSuite } from '../kernel/crypto/node.js';
import { Pep, type ApprovalResult } from '../kernel/pep/index.js';
import type { Clock } from '../kernel/proofgraph/clock.js';
import { ProofGraphWriter } from '../kernel/proofgraph/graph-writer.js';
import { adminApp, type Liveness, type Readiness } from './admin/server.js';
import { PendingApprovals } from './approvals/pending.js';
import { PolicyControl, type ReloadResult } from './bundle/control.js';
import { BundleWatcher } from './bundle/watcher.js';
import type { SidecarConfig } from './config/load.js';
import { SidecarError } from './errors.js';
import { GovernedHandler, type GovernedSurface, type Refusal } from './governed/handler.js';
import { openAiSurface } from './governed/openai-surface.js';
// Type only: the MCP SDKs load only when MCP upstreams (or sandboxed tools) are configured, the A2A
// surface only with an A2A key (start-to-ready time).
import type { mcpSurface } from './governed/mcp-surface.js';
import { sandboxModuleDir, startSandboxUpstream } from './sandbox/wiring.js';
import { HeartbeatTimer } from './heartbeat.js';
import { StartSnapshotKeeper } from '../kernel/pep/start-keeper.js';
import { close, listen } from './listen.js';
import { errorText, jsonLogger, redactingLogger, type Logger } from './log.js';
import { configuredSecrets, Redactor } from './redact.js';
import { loadMaterials } from './materials.js';
import { Certifier } from './identity/certifier.js';
import { gateUntilCertified } from './identity/gate.js';
import { checkStaticIdentity } from './identity/static-check.js';
import { budgetRows } from './observe/budgets.js';
import { instrumentPep, instrumentWriter } from './observe/instrument.js';
import { SidecarMetrics } from './observe/metrics.js';
import { startTracing, type Tracing, type TracingOptions } from './observe/tracing.js';

export interface SidecarStartOptions {
  config: SidecarConfig;
  /** OTEL_* variables (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  log?: Logger;
  /** The kernel's clock (default Date.now). */
  clock?: Clock;
  /** Challenge nonce source (default crypto.randomBytes). */
  random?: (n: number) => Uint8Array;
  tracing?: TracingOptions;
  /** Filled with the configured secrets at start; the caller's own logger can share it. */
  redact?: Redactor;
}

export class GuardianSidecar {
  governedUrl = '';
  adminUrl = '';
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private storeFault: string | null = null;
  private watcher: BundleWatcher | null = null;
  private heartbeats: HeartbeatTimer | null = null;
  private keeper: StartSnapshotKeeper | null = null;
  /** Per MCP upstream state: reported by readiness, never blocking it (upstreams start in the background). */
  private mcpUpstreams: (() => Array<Record<string, unknown>>) | null = null;
  private readonly governedServer: Server;
  private readonly adminServer: Server;

  private constructor(
    readonly config: SidecarConfig,
    readonly writer: ProofGraphWriter,
    readonly pep: Pep,
    readonly metrics: SidecarMetrics,
    readonly pending: PendingApprovals,
    private readonly tracing: Tracing,
    private readonly handler: GovernedHandler,
    private readonly log: Logger,
    private readonly clock: Clock,
    readonly policy: PolicyControl,
    /** identity certified: the certification in progress (null with identity static). */
    readonly certifier: Certifier | null,
  ) {
    // Plain node:http: the governed listener does its own routing; no framework on the hot path.
    this.governedServer = createServer(handler.listener);
    this.adminServer = createServer(
      adminApp({
        readiness: () => this.readiness(),
        liveness: () => this.liveness(),
        metrics,
        log,
        approvals: {
          // The PEP's time (never behind a time it already used): a clock set back does not
          // bring an expired ceremony back as pending.
          list: () => pending.list(pep.now()),
          get: (nonce) => pending.get(nonce, pep.now()),
          submit: (s): Promise<ApprovalResult> => pep.approve(s),
        },
      }),
    );
  }

  static async start(o: SidecarStartOptions): Promise<GuardianSidecar> {
    const c = o.config;
    // Secrets are known once the materials are read; the logger redacts them from then on.
    const redact = o.redact ?? new Redactor();
    redact.add(configuredSecrets({ mcpUpstreams: c.mcpUpstreams }));
    const log = redactingLogger(o.log ?? jsonLogger(c.logLevel), redact);
    const clock = o.clock ?? Date.now;
    const random = o.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
    const m = await loadMaterials(c, random, clock());
    const a2a = c.a2aKey !== null ? await import('./a2a/surface.js') : null;
    const a2aKey = a2a && c.a2aKey !== null ? await a2a.loadA2aKey(c.a2aKey) : null;
    const logDir = join(m.logRoot, m.writerId);
    if (!m.certified) await checkStaticIdentity({ suite: nodeSuite, nodeKey: m.nodeKey, logKey: m.logKey, origin: m.origin, trustEvents: m.trustEvents, logDir });
    redact.add([m.upstreamApiKey]);
    const files = c.bundle !== null && c.bundleSignature !== null ? { bundle: c.bundle, signature: c.bundleSignature } : null;
    const initial = await PolicyControl.initialSource(files);
    const tracing = await startTracing(o.env ?? process.env, o.tracing);

    let sidecar: GuardianSidecar | null = null;
    const metrics = new SidecarMetrics({
      pendingApprovals: () => sidecar?.pending.list(sidecar.pep.now()).length ?? 0,
      budgets: () => (sidecar ? budgetRows(sidecar.pep, c.principal.id, sidecar.pep.now()) : []),
      storeHealthy: () => sidecar?.storeProblem() === null,
      ready: () => sidecar?.readiness().ready ?? false,
    });

    let writer: ProofGraphWriter;
    try {
      writer = await ProofGraphWriter.open({
        root: m.logRoot,
        writerId: m.writerId,
        origin: m.origin,
        nodeKey: m.nodeKey,
        logKey: m.logKey,
        clock,
        trustEvents: m.trustEvents,
        heartbeatIntervalUs: c.heartbeatIntervalMs * 1000,
        checkpointEvery: c.checkpointEvery,
        startSnapshot: c.startSnapshot,
      });
    } catch (e) {
      await tracing.shutdown();
      throw new SidecarError('ERR_SIDECAR_STORE', `cannot open the ProofGraph log ${logDir}: ${errorText(e)}`, { dir: logDir });
    }
    instrumentWriter(writer, metrics);
    // Heartbeats run from the moment the log is open, so a slow start-up (state rebuild, MCP
    // upstreams) is covered by beats instead of reading as silence (docs/spec/receipt.md).
    const heartbeats = new HeartbeatTimer(writer, c.heartbeatIntervalMs, log);
    heartbeats.start();
    let pep: Pep;
    let pending: PendingApprovals;
    let keeper: StartSnapshotKeeper | null = null;
    try {
      pep = await Pep.open({ writer, logDir, trust: m.trust, clock, random, policy: initial.source });
      pending = PendingApprovals.fromCeremonies(pep.openCeremonies(), nodeSuite);
      const snap = writer.startSnapshot;
      if (snap.rejected !== null) log.warn('start-up snapshot refused: rebuilt from the whole log', { reason: snap.rejected });
      log.info('PEP state restored', { logSize: writer.size, fromSnapshotAt: pep.rebuilt.from ?? 0, treeFromSnapshotAt: writer.treeResumedAt });
      // Keeps the snapshot current after every periodic checkpoint (and at a clean stop).
      keeper = await StartSnapshotKeeper.follow({ writer, logDir, nodeKey: m.nodeKey, suite: nodeSuite, pep });
      heartbeats.afterBeat = () => keeper!.save();
    } catch (e) {
      await heartbeats.stop();
      await writer.close().catch(() => undefined);
      await tracing.shutdown();
      throw e;
    }
    let certifier: Certifier | null = null;
    if (m.certified && c.certify) {
      const cert = m.certified;
      certifier = new Certifier({
        config: c.certify,
        identity: cert.identity,
        root: cert.root,
        suite: nodeSuite,
        log,
        // Trust nodes first, durably, then the gate opens.
        record: async (events) => {
          for (const ev of events) await writer.append('trust', { event: ev }, { subjectName: `log/${writer.origin}` });
          await writer.checkpoint();
        },
      });
      const gate = certifier;
      gateUntilCertified(pep, writer, nodeSuite, () => gate.certified);
    }
    // Fleet shipping, off unless HELM_SHIP=on (sidecar/ship/attach.ts); its AWS SDK loads only then.
    const env = o.env ?? process.env;
    if (env.HELM_SHIP === 'on') await (await import('./ship/attach.js')).attachShipping({ env, pep, writer, logDir, log, registry: metrics.registry });
    const policy = PolicyControl.start(pep, files, m.trust, metrics, log, initial.read);
    instrumentPep(pep, pending, (out) => sidecar?.noticeOutcome(out.recorded, out.detail));

    const surfaces: GovernedSurface[] = [
      openAiSurface({
        pep,
        principal: c.principal,
        upstream: { baseUrl: c.upstreamUrl, apiKey: m.upstreamApiKey, timeoutMs: c.upstreamTimeoutMs },
        deniedCallMode: c.deniedCallMode,
        maxBodyBytes: c.maxBodyBytes,
        toolRoutes: c.toolRoutes,
        observer: metrics,
        redact,
        log,
      }),
    ];
    let mcp: Awaited<ReturnType<typeof mcpSurface>> | null = null;
    const sandboxDir = sandboxModuleDir(c, pep);
    if (c.mcpUpstreams.length > 0 || sandboxDir !== null) {
      try {
        const inProcess = sandboxDir !== null ? [await startSandboxUpstream(sandboxDir, c.sandboxWorkers)] : [];
        mcp = await (await import('./governed/mcp-surface.js')).mcpSurface({ pep, principal: c.principal, upstreams: c.mcpUpstreams, metrics, redact, log, inProcess });
      } catch (e) {
        await heartbeats.stop();
        await pep.close().catch(() => undefined);
        await writer.close().catch(() => undefined);
        await tracing.shutdown();
        throw new SidecarError('ERR_SIDECAR_MCP', `cannot start the MCP gateway: ${errorText(e)}`, {});
      }
      surfaces.push(mcp);
    }
    if (a2a && a2aKey) surfaces.push(a2a.a2aSurface({ pep, principal: c.principal, key: a2aKey, agentUrl: c.a2aAgentUrl, log, random, stateFile: join(m.logRoot, `${m.writerId}.a2a-state.jsonl`) }));
    const handler = new GovernedHandler({ surfaces, refusal: () => sidecar?.refusal() ?? null, tracer: tracing.tracer, metrics, log });
    sidecar = new GuardianSidecar(c, writer, pep, metrics, pending, tracing, handler, log, clock, policy, certifier);
    sidecar.heartbeats = heartbeats;
    sidecar.keeper = keeper;
    sidecar.mcpUpstreams = mcp ? () => mcp!.upstreams() : null;
    try {
      sidecar.adminUrl = await listen(sidecar.adminServer, c.adminListen, 'admin');
      sidecar.governedUrl = await listen(sidecar.governedServer, c.listen, 'governed');
    } catch (e) {
      await sidecar.stop();
      throw e;
    }
    certifier?.start();
    if (files) {
      sidecar.watcher = new BundleWatcher([files.bundle, files.signature], c.bundlePollIntervalMs, () => sidecar!.policy.check(), log);
      sidecar.watcher.start();
    }
    log.info('guardian sidecar ready to serve', {
      governed: sidecar.governedUrl,
      admin: sidecar.adminUrl,
      origin: writer.origin,
      writerId: m.writerId,
      logDir,
      identity: c.identity,
      ...(certifier ? { certification: 'pending: every call is denied IDENTITY_UNCERTIFIED until the operator certifies the keys' } : {}),
      principal: c.principal.id,
      credentialIsolation: m.upstreamApiKey !== null,
      tracing: tracing.enabled,
      logSize: writer.size,
    });
    return sidecar;
  }

  /** A store that failed stays failed: every later governed call is refused until a restart. */
  private noticeOutcome(recorded: boolean, detail: string): void {
    if (!recorded && !this.stopping && this.storeFault === null) {
      this.storeFault = detail;
      this.log.error('a decision could not be recorded: the store is failing, every governed call is now answered 503', { detail });
    }
  }

  private storeProblem(): string | null {
    const f = this.writer.failed;
    return f ? errorText(f) : this.storeFault;
  }

  private refusal(): Refusal | null {
    if (this.stopping) return { status: 503, code: 'shutting_down', message: 'the HELM sidecar is shutting down and takes no new calls' };
    const p = this.storeProblem();
    return p === null ? null : { status: 503, code: 'receipt_unavailable', message: `the ProofGraph store failed, so no call can be recorded and every call is denied: ${p}` };
  }

  readiness(): Readiness {
    const problem = this.storeProblem();
    const s = this.policy.status();
    const bundleOk = s.status === 'ready' || this.config.readyWithoutBundle;
    const checks: Readiness['checks'] = {
      store: { ok: problem === null && !this.stopping, origin: this.writer.origin, size: this.writer.size, ...(problem !== null ? { error: problem } : {}) },
      bundle: { ok: bundleOk, ...s },
      serving: { ok: !this.stopping, ...(this.stopping ? { reason: 'shutting down' } : {}) },
    };
    if (this.certifier) {
      const st = this.certifier.state;
      checks.identity = { ok: st.certified, certified: st.certified, attempts: st.attempts, ...(st.lastError ? { error: `${st.lastError.code}: ${st.lastError.message}` } : {}), ...(!st.certified ? { reasonCode: 'IDENTITY_UNCERTIFIED' } : {}) };
    }
    if (this.mcpUpstreams) checks.mcp = { ok: true, upstreams: this.mcpUpstreams() };
    return { ready: Object.values(checks).every((x) => x.ok), checks };
  }

  /** Not live once the store failed: only a restart reopens it (docs/sidecar.md §Store failure). */
  liveness(): Liveness {
    const problem = this.storeProblem();
    return problem === null || this.stopping ? { live: true } : { live: false, reason: 'store_unavailable', detail: problem };
  }

  /** Checks the bundle files now (as the watcher does on a change). */
  reload(): Promise<ReloadResult> {
    return this.policy.check();
  }

  /** One periodic heartbeat and checkpoint now (as the timer does). */
  heartbeat(): Promise<void> {
    return this.heartbeats?.beat() ?? Promise.resolve();
  }

  /** Governed requests in flight. */
  get inflight(): number {
    return this.handler.active;
  }

  /**
   * Graceful stop: refuse new calls, drain the ones in flight (cut after shutdownTimeoutMs), then
   * the shutdown heartbeat and final checkpoint, then the store is closed. Idempotent.
   */
  /** After stop(): false when the ProofGraph log did not close cleanly (the process exits 1). */
  closedCleanly: boolean | null = null;

  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    this.log.info('stopping: no new governed calls; draining', { inflight: this.handler.active });
    this.watcher?.close();
    await this.certifier?.stop();
    const governedClosed = close(this.governedServer);
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.handler.drain().then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), this.config.shutdownTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!drained) this.log.warn('drain timed out: cutting the remaining governed connections', { inflight: this.handler.active, timeoutMs: this.config.shutdownTimeoutMs });
    this.governedServer.closeAllConnections();
    await governedClosed;
    await this.handler.close();
    await this.heartbeats?.stop();
    try {
      await this.pep.close();
      await this.writer.close();
      this.log.info('ProofGraph log closed with a shutdown heartbeat and a final checkpoint', { origin: this.writer.origin, size: this.writer.size });
      this.closedCleanly = true;
      // So the next start folds nothing but its own start nodes.
      await this.keeper?.save({ force: true }).catch((e: unknown) => this.log.warn('start-up snapshot not saved', { error: errorText(e) }));
    } catch (e) {
      this.closedCleanly = false;
      this.log.error('the ProofGraph log did not close cleanly; the next start records a gap', { error: errorText(e) });
    }
    const adminClosed = close(this.adminServer);
    this.adminServer.closeAllConnections();
    await adminClosed;
    await this.tracing.shutdown().catch((e: unknown) => this.log.warn('trace export at shutdown failed', { error: errorText(e) }));
    this.log.info('stopped');
  }
}
