// Viewer entry point: reads the URL, connects to /viewer and shows either the
// session list or one session.
import { SessionLinks } from './session-links.js';
import { parseViewerParams } from './url-params.js';
import { idleHook, installHook } from './lockstep-hook.js';
import { showSessionList } from './session-list-view.js';
import { showSession } from './session-view.js';
import { h } from './dom.js';
import { checkToken, decideTokenIntake } from './token-intake.js';
import { ServerList } from './server-list.js';
import { loadKnownServers, saveKnownServers } from './known-servers.js';

const TOKEN_KEY = 'lockstep.token';

function storage(): Storage | null {
  try {
    return localStorage;
  } catch {
    return null;
  }
}

/** The page's own server first, then those this browser last learnt: a token check survives the page's server. */
function tokenCheckServers(): ServerList {
  const list = new ServerList(location.origin);
  list.update(loadKnownServers(storage()));
  return list;
}

const remember = (urls: string[]): void => saveKnownServers(storage(), urls);

function storedToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function rememberToken(token: string): boolean {
  try {
    localStorage.setItem(TOKEN_KEY, token);
    return true;
  } catch {
    return false; // Storage disabled: the token then has to stay in the URL.
  }
}

function stripTokenFromUrl(): void {
  const q = new URLSearchParams(location.search);
  q.delete('token');
  const rest = q.toString();
  history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
}

/** A different owner token is remembered: the person chooses; nothing is replaced until they do. */
function askAboutToken(
  root: HTMLElement,
  linkOwner: string,
  storedOwner: string | null,
): Promise<'tab' | 'replace' | 'ignore'> {
  return new Promise((resolve) => {
    const choose = (c: 'tab' | 'replace' | 'ignore') => () => {
      panel.remove();
      resolve(c);
    };
    const button = (id: string, label: string, c: 'tab' | 'replace' | 'ignore') => {
      const b = h('button', { type: 'button', 'data-testid': id }, label);
      b.addEventListener('click', choose(c));
      return b;
    };
    const panel = h(
      'section',
      { class: 'token-ask', 'data-testid': 'token-ask', role: 'alertdialog' },
      h('h2', {}, 'This link signs you in as someone else'),
      h(
        'p',
        {},
        `The link carries an owner token for “${linkOwner}”; this browser remembers ` +
          (storedOwner === null ? 'another owner token.' : `the token of “${storedOwner}”.`) +
          ' Only replace it if you trust who sent the link.',
      ),
      h(
        'div',
        { class: 'token-ask-actions' },
        button('token-ask-ignore', 'Keep mine, ignore the link', 'ignore'),
        button('token-ask-tab', `Use “${linkOwner}” in this tab only`, 'tab'),
        button('token-ask-replace', `Replace mine with “${linkOwner}”`, 'replace'),
      ),
    );
    root.prepend(panel);
  });
}

/** The token this page connects with, after checking a `?token=` with the server (see token-intake.ts). */
async function resolveToken(root: HTMLElement, urlToken: string | null): Promise<string | null> {
  const stored = storedToken();
  const servers = tokenCheckServers();
  const check = urlToken === null ? null : await checkToken(urlToken, servers);
  const d = decideTokenIntake(urlToken, stored, check);
  // Beside the app root, not in it: the views below replace the root's children.
  if (d.notice)
    root.before(h('p', { class: 'banner banner-warn', 'data-testid': 'token-notice', role: 'alert' }, d.notice));
  if (d.store && d.use !== null && !rememberToken(d.use)) return d.use;
  if (d.stripUrl) stripTokenFromUrl();
  if (!d.ask || urlToken === null || check?.kind !== 'owner') return d.use;
  const mine = stored === null ? null : await checkToken(stored, servers);
  const choice = await askAboutToken(root, check.owner, mine?.kind === 'owner' ? mine.owner : null);
  if (choice === 'tab') return urlToken;
  if (choice === 'replace' && rememberToken(urlToken)) stripTokenFromUrl();
  else if (choice === 'ignore') stripTokenFromUrl();
  return choice === 'replace' ? urlToken : stored;
}

async function start(): Promise<void> {
  const params = parseViewerParams(location.search, location.hash);
  const root = document.getElementById('app') ?? document.body.appendChild(h('main', { id: 'app' }));
  const token = await resolveToken(root, params.token);

  const connDot = document.getElementById('conn-dot');
  const showState = ({ state, detail }: { state: string; detail: string | null }): void => {
    if (!connDot) return;
    connDot.className = `conn-dot conn-${state}`;
    connDot.title = detail ? `${state}: ${detail}` : state;
  };
  if (params.sessionId) {
    // A session is reached through every live server of the cluster (one, alone).
    const links = new SessionLinks({ token, origin: location.origin, onServers: remember });
    links.on('state', showState);
    installHook(idleHook(params.mode, () => links.state));
    void showSession({
      root,
      links,
      sessionId: params.sessionId,
      mode: params.mode,
      fit: params.fit,
      stamps: params.stamps,
      display: params.display,
    });
  } else {
    // The list too is asked of any live server: the page's own may be the one that died.
    const links = new SessionLinks({ token, origin: location.origin, onServers: remember });
    links.on('state', showState);
    installHook(idleHook(params.mode, () => links.state));
    links.discover();
    showSessionList(root, links);
  }
  // `#/s/<id>` links change only the hash: reload to open the session cleanly.
  window.addEventListener('hashchange', () => location.reload());
}

const run = (): void => void start();
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', run, { once: true });
else run();
