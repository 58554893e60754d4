// Viewer entry point: reads the URL, connects to /viewer and shows either the
// session list or one session.
import { SessionClient } from './session-client.js';
import { parseViewerParams } from './url-params.js';
import { idleHook, installHook } from './lockstep-hook.js';
import { showSessionList } from './session-list-view.js';
import { showSession } from './session-view.js';
import { h } from './dom.js';

const TOKEN_KEY = 'lockstep.token';

/** Owner tokens are `lso_…`; operator-chosen ones (LOCKSTEP_OWNER_TOKEN) have no prefix rule, share links are `lss_…`. */
function isOwnerToken(token: string): boolean {
  return !token.startsWith('lss_');
}

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

function start(): void {
  const params = parseViewerParams(location.search, location.hash, storedToken());
  const fromUrl = new URLSearchParams(location.search).get('token');
  // Only an owner token is remembered: opening someone's share link must not
  // replace it. Once remembered it leaves the address bar (history, screenshots).
  if (params.token && fromUrl === params.token && isOwnerToken(params.token) && rememberToken(params.token)) {
    const q = new URLSearchParams(location.search);
    q.delete('token');
    const rest = q.toString();
    history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
  }

  const root = document.getElementById('app') ?? document.body.appendChild(h('main', { id: 'app' }));
  const client = new SessionClient({ token: params.token });
  const connDot = document.getElementById('conn-dot');
  client.on('state', ({ state, detail }) => {
    if (!connDot) return;
    connDot.className = `conn-dot conn-${state}`;
    connDot.title = detail ? `${state}: ${detail}` : state;
  });

  installHook(idleHook(params.mode, () => client.state));
  if (params.sessionId) {
    void showSession({ root, client, sessionId: params.sessionId, mode: params.mode, fit: params.fit });
  } else {
    showSessionList(root, client);
  }
  // `#/s/<id>` links change only the hash: reload to open the session cleanly.
  window.addEventListener('hashchange', () => location.reload());
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
