// Viewer entry point: reads the URL, connects to /viewer and shows either the
// session list or one session.
import { SessionClient } from './session-client.js';
import { parseViewerParams } from './url-params.js';
import { idleHook, installHook } from './lockstep-hook.js';
import { showSessionList } from './session-list-view.js';
import { showSession } from './session-view.js';
import { h } from './dom.js';

const TOKEN_KEY = 'lockstep.token';

function storedToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

function rememberToken(token: string): void {
  try {
    localStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage disabled: the token then has to stay in the URL.
  }
}

function start(): void {
  const params = parseViewerParams(location.search, location.hash, storedToken());
  if (params.token && new URLSearchParams(location.search).get('token') === params.token) rememberToken(params.token);

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
    void showSession({ root, client, sessionId: params.sessionId, mode: params.mode });
  } else {
    showSessionList(root, client);
  }
  // `#/s/<id>` links change only the hash: reload to open the session cleanly.
  window.addEventListener('hashchange', () => location.reload());
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
