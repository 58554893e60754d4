// The open-session page: wires the server links (one per live server of the
// cluster, or the one server), input path and streams together and renders
// the stage, replica bar, status line and banners.
import { expectsOwnFrame } from '../protocol/freshness.js';
import type { ViewerNotification } from '../protocol/signalling.js';
import { touchModeOf, wantsInput } from '../protocol/app-inputs.js';
import type { SessionInfo } from '../protocol/session.js';
import type { SessionLinks } from './session-links.js';
import { ViewerRequestError } from './request-error.js';
import { acquireClientIdentity } from './client-identity.js';
import { HeadTracker } from './head-tracker.js';
import { InputSender } from './input-sender.js';
import { InputCapture } from './input-capture.js';
import { StreamManager, type StreamMode, type StreamView } from './stream-manager.js';
import type { StampSource } from './frame-stamp-reader.js';
import { grabAppFrame } from './frame-grab.js';
import { installHook, type LatencySample, type SwitchEntry } from './lockstep-hook.js';
import { appFailureBanner } from './app-failure-banner.js';
import { Banners } from './banners.js';
import { clear, h } from './dom.js';
import { listHref } from './url-params.js';
import { debugLog } from './debug-log.js';
import { RepaintGate } from './repaint-gate.js';
import { installSessionExtras } from './session-extras.js';
import { SelectionHandles } from './selection-handles.js';

const log = debugLog('session');
const STATUS_MS = 250;
/** The status line's and replica bar's numbers are rewritten at most this often (repaint-gate.ts). */
const COUNTERS_REPAINT_MS = 1000;
/** A chip below this score shows degraded. */
const DEGRADED_SCORE = 60;
const MAX_SWITCH_LOG = 200;
const MAX_LATENCY_WAIT = 64;
const MAX_LATENCY_SAMPLES = 2000;

export interface SessionViewOptions {
  root: HTMLElement;
  links: SessionLinks;
  sessionId: string;
  mode: StreamMode;
  /** Start with fit to window on (`?fit=1`). */
  fit?: boolean;
  /** Where frame stamps are read (`?stamps=`); default a track processor where the browser has one. */
  stamps?: StampSource;
  /** `?display=tiles`: the shown stream from its display channel (tile-display.ts); default video. */
  display?: 'video' | 'tiles';
}

export async function showSession(opts: SessionViewOptions): Promise<void> {
  const { links, sessionId, mode } = opts;

  // ---------------------------------------------------------------- DOM
  const title = h('h1', { class: 'session-title' }, h('span', { class: 'mono' }, sessionId));
  const viewOnlyBadge = h(
    'span',
    { class: 'badge badge-view-only', 'data-testid': 'view-only', hidden: true },
    'view only',
  );
  const bannerHost = h('div', { class: 'banners' });
  const overlay = h('div', { class: 'stage-overlay' }, 'Connecting…');
  const stage = h(
    'div',
    { class: 'stage', tabindex: 0, 'data-testid': 'stage', 'aria-label': 'App surface: click to type' },
    overlay,
  );
  const replicaBar = h('div', { class: 'replica-bar', 'aria-label': 'Replicas' });
  const toolbar = h('div', { class: 'session-tools' });
  const stageWrap = h('div', { class: 'stage-wrap' }, stage);
  const status = h('div', { class: 'status-line', 'aria-live': 'off' });
  clear(opts.root);
  opts.root.append(
    h(
      'section',
      { class: 'session-view' },
      h(
        'div',
        { class: 'session-head' },
        h('a', { href: listHref(location.search), class: 'back' }, '← Sessions'),
        title,
        h('span', { class: `badge badge-${mode}` }, `${mode} standby`),
        viewOnlyBadge,
        toolbar,
      ),
      bannerHost,
      stageWrap,
      replicaBar,
      status,
    ),
  );
  const banners = new Banners(bannerHost);

  // ---------------------------------------------------------------- state
  const identity = await acquireClientIdentity(sessionId);
  const heads = new HeadTracker();
  const switches: SwitchEntry[] = [];
  const awaitingPhoton: Array<{ seq: number; sentAt: number; ackedAt: number }> = [];
  const latencySamples: LatencySample[] = [];
  let lastLatencyMs: number | null = null;
  let session: SessionInfo | null = null;
  let streams: StreamView[] = [];
  let closed = false;

  const manager = new StreamManager({
    homeOf: (id) => links.homeOf(id),
    stage,
    mode,
    heads,
    unackedSince: () => sender.unackedSince(),
    ...(opts.stamps ? { stamps: opts.stamps } : {}),
    ...(opts.display ? { display: opts.display } : {}),
  });
  const sender = new InputSender({
    sessionId,
    transmit: (req) => links.sendInput(req),
    reroute: () => links.reroute(),
    pingRoute: () => links.pingRoute(),
    loadSeq: () => identity.loadSeq(),
    saveSeq: (s) => identity.saveSeq(s),
    loadPending: () => identity.loadPending(),
    savePending: (items) => identity.savePending(items),
    now: () => performance.now(),
  });
  // A view-only link watches: nothing it captures is sent (the server would refuse it anyway).
  let readOnly = false;
  const capture = new InputCapture({
    stage,
    appSize: () => manager.appSize(),
    touchMode: () => touchModeOf(session?.inputs),
    // Key releases go only to apps that read them (their manifest's keyUps): one input per keystroke, not two.
    send: (e) => {
      if (!readOnly && wantsInput(session?.inputs, e)) sender.send(e);
    },
    onError: (msg) => banners.show('error', msg, { ttlMs: 6000, key: 'input' }),
  });

  // Drag handles at the ends of the shown replica's selection, on touch screens, for apps that report it.
  const touchScreen = window.matchMedia('(any-pointer: coarse)');
  const handles = new SelectionHandles({
    stage,
    appSize: () => manager.appSize(),
    liveReplicaId: () => manager.liveReplicaId,
    ackedSeq: () => sender.stats().highestAckedSeq,
    enabled: () => touchScreen.matches && !readOnly,
    send: (e) => {
      if (!readOnly) sender.send(e);
    },
  });

  // The crop box follows the live picture's size (resize inputs change it; SessionInfo does not).
  let stageSize = '';
  const setStageSize = (size: { width: number; height: number }): void => {
    // Session updates arrive several times a second: a style write, even of the same value, costs a style pass.
    const key = `${size.width}x${size.height}`;
    if (key !== stageSize) {
      stageSize = key;
      stage.style.setProperty('--app-w', String(size.width));
      stage.style.setProperty('--app-h', String(size.height));
    }
    handles.render();
  };
  manager.on('size', setStageSize);
  const extras = installSessionExtras({
    sessionId,
    stage,
    stageWrap,
    toolbar,
    banners,
    fit: (opts.fit ?? false) || prefersFit(),
    appSize: () => manager.appSize(),
    send: (e) => sender.send(e),
    canSendInput: () => manager.ready,
    copyRequest: (req) => links.copy(req),
    pendingInputs: () => sender.stats().pending,
    ackedSeq: () => sender.stats().highestAckedSeq,
    liveReplicaId: () => manager.liveReplicaId,
    rest: links.rest,
    stats: {
      streams: () => streams,
      headSeq: () => heads.head,
      lastLatencyMs: () => lastLatencyMs,
      recentLatenciesMs: () => latencySamples.slice(-20).map((l) => l.shownAt - l.sentAt),
      pendingInputs: () => sender.stats().pending,
      appSize: () => manager.appSize(),
      connection: () => links.state,
    },
  });
  let titleShows = '';
  const showAppFailure = appFailureBanner(banners);
  const applySession = (s: SessionInfo): void => {
    session = s;
    heads.note(s.headSeq, performance.now());
    handles.seed(s.replicas);
    setStageSize(manager.appSize().width > 0 ? manager.appSize() : s);
    showAppFailure(s.appFailure);
    // Rebuilt only when it changes: a session update comes with every replica report (~3/s while typing),
    // and each rebuild cost the tab a layout, paint and commit.
    const titleKey = `${s.app.name}@${s.app.hash}|${s.sessionId}`;
    if (titleKey === titleShows) return;
    titleShows = titleKey;
    // The pinned app version (name + content hash): every replica runs exactly this build.
    title.replaceChildren(
      h('span', {}, s.app.name),
      h(
        'span',
        { class: 'app-version mono', title: `app version ${s.app.name}@${s.app.hash}`, 'data-testid': 'app-version' },
        `@${s.app.hash.slice(0, 8)}`,
      ),
      ' · ',
      h('span', { class: 'mono' }, s.sessionId),
    );
    document.title = `${s.app.name} · Lockstep`;
  };

  // ---------------------------------------------------------------- wiring
  links.on('session', (merged) => {
    if (closed || merged.session.sessionId !== sessionId) return;
    applySession(merged.session);
    manager.onSessionUpdate(merged.session);
  });
  links.on('joined', ({ link, result, rejoin, resync }) => {
    if (closed) return;
    readOnly = result.role === 'view';
    viewOnlyBadge.hidden = !readOnly;
    // Only after no server was joined: another server's count may lag the acks this viewer holds.
    if (resync) sender.resync(result.lastClientSeq);
    if (!manager.ready) overlay.textContent = 'Waiting for video…';
    if (rejoin && resync) {
      banners.clear('conn');
      banners.show('info', 'Reconnected.', { ttlMs: 3000, key: 'conn' });
    }
    manager.attachLink(link, result.session).catch((err: unknown) => {
      log('attach failed', link.url, err);
      banners.show('error', `Could not open the video: ${errorText(err)}`, { key: 'media' });
    });
  });
  links.on('linkOffline', ({ link, carriedInputs }) => {
    log('server dropped', link.url, { carriedInputs });
    manager.linkOffline(link);
    // Its answers are lost with it: what was in flight goes again through the next server now.
    if (carriedInputs) sender.resendInFlight();
  });
  links.on('offline', () => {
    sender.setOffline();
    manager.setOffline();
    if (!closed)
      banners.show('warn', 'Connection lost — reconnecting… (your typing is kept and will be sent)', { key: 'conn' });
  });
  links.on('rejoinFailed', ({ error }) => {
    banners.show('error', `Could not rejoin the session: ${error.message}`, { key: 'conn' });
  });
  links.on('mediaFailed', () => banners.show('error', 'media connection failed', { ttlMs: 6000, key: 'media' }));
  links.on('notify', ({ notification }) => onNotify(notification));
  manager.on('switched', (rec) => {
    switches.push({ at: rec.at, from: rec.from, to: rec.to, reason: rec.reason, cause: rec.cause });
    if (switches.length > MAX_SWITCH_LOG) switches.splice(0, switches.length - MAX_SWITCH_LOG);
    if (rec.from !== null) {
      // Keys held during a switch must not stay down on any replica.
      capture.releaseAll();
      banners.show('warn', `Switched to replica on host ${rec.toHost} (${describeReason(rec.reason)}).`, {
        ttlMs: 5000,
        key: 'failover',
      });
    }
  });
  // Rebuilt when what a chip means changed (state, live, failed, degraded), and for its numbers
  // (lag, score, reasons) at most once a second: they move at every tick while typing.
  const replicaBarGate = new RepaintGate(COUNTERS_REPAINT_MS);
  manager.on('streams', (v) => {
    streams = v;
    if (!replicaBarGate.due(JSON.stringify(v.map(chipMeaning)), JSON.stringify(v.map(chipNumbers)), performance.now()))
      return;
    renderReplicaBar(replicaBar, v);
  });
  manager.on('ready', (ready) => {
    overlay.hidden = ready;
    if (ready) {
      banners.clear('media');
      if (document.activeElement === document.body) capture.focus();
    } else if (!closed) {
      overlay.textContent = 'Waiting for video…';
    }
  });
  manager.on('error', ({ message }) => banners.show('error', message, { ttlMs: 6000, key: 'media' }));
  sender.on('acked', (a) => {
    // A key-up changes no picture in the apps we know: the renderers send no frame of its own for it (see
    // expectsOwnFrame), so it makes no stream behind and has no input-to-photon of its own.
    const ownFrame = expectsOwnFrame(a.event);
    heads.note(a.seq, a.firstSentAt, !ownFrame);
    // The stale rule counts from the send: the manager arms its check for then (at once for a late ack).
    if (ownFrame) manager.inputAcked(a.firstSentAt);
    if (!a.duplicate && ownFrame) {
      awaitingPhoton.push({ seq: a.seq, sentAt: a.firstSentAt, ackedAt: a.ackedAt });
      if (awaitingPhoton.length > MAX_LATENCY_WAIT) awaitingPhoton.shift();
    }
  });
  sender.on('stats', () => manager.inputsChanged(sender.unackedSince()));
  sender.on('rejected', ({ error }) => {
    // A key release the app does not read (one kept from before the session's info arrived, or from an
    // older viewer's storage) was dropped, as this viewer would have dropped it: nothing to tell.
    if (error instanceof ViewerRequestError && error.code === 'unwanted-input') return;
    banners.show('error', `An input was refused: ${errorText(error)}`, { ttlMs: 5000, key: 'input' });
  });

  function onNotify(n: ViewerNotification): void {
    switch (n.type) {
      case 'session.update':
        return; // merged over every server: see links.on('session')
      case 'consumer.closed':
        manager.onConsumerClosed(n.consumerId);
        return;
      case 'consumer.score':
        manager.onConsumerScore(n.consumerId, n.score);
        return;
      case 'selection.geometry':
        if (n.sessionId === sessionId) handles.note(n.replicaId, n.seq, n.selection);
        return;
      case 'session.closed':
        if (n.sessionId !== sessionId) return;
        closed = true;
        manager.dispose();
        sender.dispose();
        capture.dispose();
        handles.dispose();
        extras.dispose();
        overlay.hidden = false;
        overlay.textContent = 'Session closed';
        banners.show('error', `This session was closed: ${n.reason}`, { key: 'conn' });
        return;
    }
  }

  // Input-to-photon: when the live stream first shows a frame stamped ≥ an acked seq.
  const measureLatency = (): void => {
    const timeline = manager.liveTimeline();
    if (!timeline) return;
    while (awaitingPhoton.length > 0) {
      const first = awaitingPhoton[0];
      if (!first) break;
      const shown = timeline.firstShown(first.seq);
      if (shown === null) break;
      awaitingPhoton.shift();
      lastLatencyMs = Math.max(0, Math.round(shown.at - first.sentAt));
      latencySamples.push({
        ...first,
        shownAt: shown.at,
        receivedAt: shown.receivedAt,
        presentedAt: shown.presentedAt,
        expectedDisplayAt: shown.expectedDisplayAt,
        frameAt: shown.frameAt,
        replicaId: manager.liveReplicaId,
      });
      if (latencySamples.length > MAX_LATENCY_SAMPLES) latencySamples.shift();
    }
  };

  // The connection, mode and live host show at once; the counters (which move with every key) once a second.
  const statusGate = new RepaintGate(COUNTERS_REPAINT_MS);
  const renderStatus = (): void => {
    const st = sender.stats();
    const live = manager.liveReplica();
    const meaning = [`mode ${mode}`, live ? `live: ${live.hostId}` : 'live: —'];
    const counters = [
      `pending ${st.pending}`,
      `acked #${st.highestAckedSeq}`,
      `shown #${manager.liveTimeline()?.lastSeq ?? '—'}`,
      lastLatencyMs === null ? 'latency —' : `latency ${lastLatencyMs} ms`,
    ];
    const texts = [...meaning, ...counters];
    if (!statusGate.due(`${links.state}|${meaning.join('|')}`, counters.join('|'), performance.now())) return;
    status.replaceChildren(
      h('span', { class: `conn conn-${links.state}` }, '● ', links.state),
      ...texts.map((t) => h('span', {}, t)),
    );
  };
  setInterval(() => {
    measureLatency();
    renderStatus();
    handles.render(); // follows switches and layout changes
  }, STATUS_MS);
  links.on('state', ({ state }) => {
    renderStatus();
    if (state === 'refused')
      banners.show('error', 'The server refused the connection (check the ?token= in the URL).', { key: 'conn' });
  });

  installHook({
    get ready() {
      return manager.ready;
    },
    sessionId,
    get liveReplicaId() {
      return manager.liveReplicaId;
    },
    get liveHostId() {
      return manager.liveReplica()?.hostId ?? null;
    },
    get displayedSeq() {
      return manager.liveTimeline()?.lastSeq ?? null;
    },
    get ackedSeq() {
      return sender.stats().highestAckedSeq;
    },
    get pendingInputs() {
      return sender.stats().pending;
    },
    switches,
    mode,
    get appWidth() {
      return manager.appSize().width || (session?.width ?? 0);
    },
    get appHeight() {
      return manager.appSize().height || (session?.height ?? 0);
    },
    grabFrame() {
      const picture = manager.livePicture();
      const size = manager.appSize();
      return picture ? grabAppFrame(picture, size.width, size.height) : null;
    },
    get connection() {
      return links.state;
    },
    get inputServer() {
      return links.inputServer;
    },
    get liveServer() {
      const id = manager.liveReplicaId;
      return id === null ? null : (links.merged?.homes.get(id) ?? null);
    },
    get sentInputs() {
      return sender.stats().sent;
    },
    get tiles() {
      return manager.tileState;
    },
    get probes() {
      return manager.probeCounts;
    },
    clientId: identity.clientId,
    get lastLatencyMs() {
      return lastLatencyMs;
    },
    latencySamples,
    get streams() {
      return streams;
    },
  });

  window.addEventListener('pagehide', () => identity.release());

  // ---------------------------------------------------------------- join
  try {
    await links.join(sessionId, identity.clientId);
  } catch (err) {
    overlay.textContent = 'Could not join';
    const notFound = err instanceof ViewerRequestError && err.code === 'not-found';
    banners.show(
      'error',
      notFound ? 'This session does not exist (any more).' : `Could not join the session: ${errorText(err)}`,
      { key: 'conn' },
    );
  }
}

/** The fields of a stream view that change what its chip means (renderReplicaBar: shown at once). */
function chipMeaning(v: StreamView): unknown[] {
  return [v.replicaId, v.hostId, v.state, v.hardFailure, v.score < DEGRADED_SCORE, v.live, v.resumed];
}

/** The numbers a chip shows (at most once per COUNTERS_REPAINT_MS). */
function chipNumbers(v: StreamView): unknown[] {
  return [v.lagSeq, v.score, v.reasons];
}

function renderReplicaBar(bar: HTMLElement, views: StreamView[]): void {
  const chips = views.map((v) => {
    const cls = [
      'chip',
      v.live ? 'chip-live' : '',
      v.hardFailure ? 'chip-failed' : v.score < DEGRADED_SCORE ? 'chip-degraded' : 'chip-ok',
    ]
      .filter(Boolean)
      .join(' ');
    return h(
      'div',
      { class: cls, title: `${v.replicaId}\nscore ${v.score}${v.reasons.length ? `\n${v.reasons.join('\n')}` : ''}` },
      h('span', { class: 'chip-host' }, v.hostId),
      h('span', { class: 'chip-state' }, v.state),
      h('span', {}, `lag ${v.lagSeq}`),
      h('span', { class: 'chip-score' }, `score ${v.score}`),
      v.live
        ? h('span', { class: 'chip-tag' }, 'LIVE')
        : v.resumed
          ? h('span', { class: 'chip-tag chip-tag-hot' }, 'hot')
          : null,
    );
  });
  bar.replaceChildren(...(chips.length ? chips : [h('span', { class: 'muted' }, 'No replicas yet')]));
}

/** Phones and small tablets open fitted: a desktop-sized surface scaled down is unreadable there. */
function prefersFit(): boolean {
  return window.matchMedia('(max-width: 900px), (pointer: coarse)').matches;
}

function describeReason(reason: string): string {
  switch (reason) {
    case 'hard-failure':
      return 'the previous one failed';
    case 'gone':
      return 'the previous one is gone';
    case 'better':
      return 'healthier stream';
    default:
      return reason;
  }
}

function errorText(err: unknown): string {
  return err instanceof ViewerRequestError
    ? `${err.message} (${err.code})`
    : err instanceof Error
      ? err.message
      : String(err);
}
