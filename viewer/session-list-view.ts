// The landing page: running sessions with open links, and a button to start
// a new writer session (or another app from the catalogue).
import type { AppCatalogEntry, SessionInfo } from '../protocol/session.js';
import type { ShareRole } from '../protocol/signalling.js';
import type { ViewerRequest, ViewerResponses } from '../protocol/signalling.js';
import type { ConnectionState } from './session-client.js';
import { ViewerRequestError } from './request-error.js';
import { Banners } from './banners.js';
import { clear, h } from './dom.js';
import { sessionHref } from './url-params.js';
import { IMPORT_ACCEPT, importFile } from './document-import.js';
import { ThumbnailLoader } from './thumbnails.js';
import type { ClusterRest } from './cluster-rest.js';

const REFRESH_MS = 5000;
const DEFAULT_APP = 'writer';

/** What the list asks through: SessionLinks (any live server of the cluster; one alone). */
export interface ListRequests {
  readonly token: string | null;
  /** REST calls (thumbnails, import) to any live server. */
  readonly rest: ClusterRest;
  request<T extends ViewerRequest['type']>(msg: Extract<ViewerRequest, { type: T }>): Promise<ViewerResponses[T]>;
  on(type: 'state', fn: (s: { state: ConnectionState; detail: string | null }) => void): () => void;
}

export function showSessionList(root: HTMLElement, client: ListRequests): () => void {
  const bannerHost = h('div', { class: 'banners' });
  const banners = new Banners(bannerHost);
  const appSelect = h(
    'select',
    { class: 'app-select', 'aria-label': 'App' },
    h('option', { value: DEFAULT_APP }, 'Writer'),
  );
  const createBtn = h('button', { class: 'btn btn-primary', type: 'button' }, 'New writer session');
  const importInput = h('input', { type: 'file', accept: IMPORT_ACCEPT, hidden: '', 'data-testid': 'import-file' });
  const importBtn = h(
    'button',
    {
      class: 'btn',
      type: 'button',
      title: `A new session from a ${IMPORT_ACCEPT} file`,
      'data-testid': 'import-button',
    },
    'Import a file…',
  );
  const tbody = h('tbody', {}, h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'Loading…')));
  const table = h(
    'table',
    { class: 'sessions' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'Preview'),
        h('th', {}, 'Session'),
        h('th', {}, 'App'),
        h('th', {}, 'Replicas'),
        h('th', {}, 'Created'),
        h('th', {}, ''),
      ),
    ),
    tbody,
  );
  clear(root);
  root.append(
    h(
      'section',
      { class: 'list-view' },
      h(
        'div',
        { class: 'list-head' },
        h('h1', {}, 'Sessions'),
        h('div', { class: 'actions' }, appSelect, createBtn, importBtn, importInput),
      ),
      bannerHost,
      table,
    ),
  );

  const errorText = (err: unknown): string =>
    err instanceof ViewerRequestError ? `${err.message} (${err.code})` : String(err);

  // Share links: a token bound to one session and a role, shown once.
  const share = (sessionId: string, role: ShareRole): void => {
    client.request({ type: 'share.create', sessionId, role }).then(
      (link) => {
        const kind = role === 'view' ? 'View-only' : 'Control';
        const until = new Date(link.expiresAt).toLocaleString();
        void navigator.clipboard?.writeText(link.url).catch(() => undefined);
        banners.show('info', `${kind} link for ${sessionId} (until ${until}; copied if allowed): ${link.url}`, {
          key: 'share',
        });
      },
      (err: unknown) => banners.show('error', `Could not create a share link: ${errorText(err)}`, { key: 'share' }),
    );
  };

  // Closing ends the session for everyone: its replicas stop and its log is kept but no longer served.
  const closeSession = (sessionId: string): void => {
    client.request({ type: 'sessions.close', sessionId }).then(
      () => {
        banners.show('info', `Closed ${sessionId}.`, { ttlMs: 4000, key: 'close' });
        void refresh();
      },
      (err: unknown) => banners.show('error', `Could not close ${sessionId}: ${errorText(err)}`, { key: 'close' }),
    );
  };

  const thumbs = new ThumbnailLoader(client.rest);
  const refresh = async (): Promise<void> => {
    try {
      const { sessions } = await client.request({ type: 'sessions.list' });
      renderRows(tbody, sessions, share, thumbs, closeSession);
      thumbs.show(sessions.map((s) => s.sessionId));
      banners.clear('list');
    } catch (err) {
      banners.show('error', `Could not load sessions: ${errorText(err)}`, { key: 'list' });
    }
  };

  const loadApps = async (): Promise<void> => {
    try {
      const { apps } = await client.request({ type: 'apps.list' });
      if (apps.length > 0) renderApps(appSelect, apps);
    } catch {
      // The writer default still works without the catalogue.
    }
  };

  appSelect.addEventListener('change', () => {
    const title = appSelect.selectedOptions[0]?.textContent ?? appSelect.value;
    createBtn.textContent = `New ${title.toLowerCase()} session`;
  });

  createBtn.addEventListener('click', () => {
    createBtn.disabled = true;
    client.request({ type: 'sessions.create', app: appSelect.value || DEFAULT_APP }).then(
      ({ session }) => location.assign(sessionHref(location.search, session.sessionId)),
      (err: unknown) => {
        createBtn.disabled = false;
        banners.show('error', `Could not create a session: ${errorText(err)}`, { key: 'create' });
      },
    );
  });

  importBtn.addEventListener('click', () => importInput.click());
  importInput.addEventListener('change', () => {
    const file = importInput.files?.[0];
    importInput.value = '';
    if (!file) return;
    importBtn.disabled = true;
    importFile(file, client.rest).then(
      ({ session }) => location.assign(sessionHref(location.search, session.sessionId)),
      (err: unknown) => {
        importBtn.disabled = false;
        banners.show('error', `Could not import: ${err instanceof Error ? err.message : String(err)}`, {
          key: 'import',
        });
      },
    );
  });

  void refresh();
  void loadApps();
  const timer = setInterval(() => void refresh(), REFRESH_MS);
  const offState = client.on('state', ({ state }) => {
    if (state === 'connected') void refresh();
  });
  return () => {
    clearInterval(timer);
    thumbs.dispose();
    offState();
  };
}

function renderApps(select: HTMLSelectElement, apps: AppCatalogEntry[]): void {
  const current = select.value;
  clear(select);
  for (const a of apps) select.append(h('option', { value: a.name }, a.title || a.name));
  select.value = apps.some((a) => a.name === current) ? current : (apps[0]?.name ?? DEFAULT_APP);
  select.dispatchEvent(new Event('change'));
  select.hidden = apps.length < 2;
}

function renderRows(
  tbody: HTMLElement,
  sessions: SessionInfo[],
  share: (sessionId: string, role: ShareRole) => void,
  thumbs?: ThumbnailLoader,
  close?: (sessionId: string) => void,
): void {
  clear(tbody);
  if (sessions.length === 0) {
    tbody.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No sessions yet. Start one above.')));
    return;
  }
  const sorted = [...sessions].sort((a, b) => b.createdAt - a.createdAt);
  for (const s of sorted) {
    const live = s.replicas.filter((r) => r.state === 'live').length;
    const href = sessionHref(location.search, s.sessionId);
    tbody.append(
      h(
        'tr',
        {},
        h('td', { class: 'thumb-cell' }, thumbs ? h('a', { href }, thumbs.imageFor(s.sessionId)) : null),
        h('td', {}, h('a', { href, class: 'mono' }, s.sessionId)),
        h('td', {}, s.app.name),
        h(
          'td',
          { title: s.replicas.map((r) => `${r.hostId}: ${r.state}`).join('\n') },
          `${live} live / ${s.replicas.length}`,
        ),
        h('td', {}, formatTime(s.createdAt)),
        h(
          'td',
          { class: 'right' },
          shareButton('Share view', () => share(s.sessionId, 'view')),
          shareButton('Share control', () => share(s.sessionId, 'control')),
          h('a', { href, class: 'btn btn-small' }, 'Open'),
          close
            ? shareButton('Close', () => close(s.sessionId), {
                'data-testid': `close-${s.sessionId}`,
                class: 'btn btn-small btn-danger',
              })
            : null,
        ),
      ),
    );
  }
}

function shareButton(label: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLButtonElement {
  const b = h('button', { class: 'btn btn-small', type: 'button', ...attrs }, label);
  b.addEventListener('click', onClick);
  return b;
}

function formatTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '—' : d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}
