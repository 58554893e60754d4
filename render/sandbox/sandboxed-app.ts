// A published app behind the sandbox, seen by the node as a ReplicaApp: each
// state is one AppInstance (its own worker and context), so replicas of
// different sessions share nothing, and a replica whose app hangs or throws
// loses only its own instance. Every call is asynchronous.
import { surfaceFor } from '../app-manifest.js';
import { appDocument, offeredFormat, pngDocument } from '../export-document.js';
import { declareFont, loadDeclaredFont } from '../fonts.js';
import type { Painter, ReplicaApp } from '../replica-app.js';
import type { FrameInfo } from '../sdk/damage.js';
import type { AppManifest } from '../sdk/manifest.js';
import { AppInstance } from './app-instance.js';
import { AppCodeError } from './errors.js';
import { fontTableJson } from './font-table.js';
import type { SandboxLimits } from './sandbox-limits.js';

export interface SandboxedAppOptions {
  manifest: AppManifest;
  /** The bundle's JavaScript (an IIFE assigning `__lockstepApp`, see bundle-app.ts). */
  bundle: string;
  /** Font family → font file, for every family in the manifest. */
  fonts: ReadonlyMap<string, string>;
  limits: SandboxLimits;
}

/** A report longer than this is not read (it would be refused anyway: render/frame-damage.ts). */
const MAX_DAMAGE_JSON = 32 * 1024;

/** The app's damage report as sent from its worker (unchecked; undefined: none, or not JSON). */
function parseDamage(json: string): unknown {
  if (json.length === 0 || json.length > MAX_DAMAGE_JSON) return undefined;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return undefined;
  }
}

export function sandboxedApp(opts: SandboxedAppOptions): ReplicaApp<AppInstance> {
  const { manifest, bundle, limits } = opts;
  // Replayed drawing sets `ctx.font` to these families: node-canvas must know them.
  for (const [family, path] of opts.fonts) {
    declareFont(family, path);
    loadDeclaredFont(family);
  }
  const fontsJson = fontTableJson(opts.fonts);
  const start = async (op: 'init' | 'restore', arg: string): Promise<AppInstance> => {
    const instance = await AppInstance.start({ app: manifest.name, bundle, fontsJson, limits });
    try {
      await instance.call(op, arg);
    } catch (err) {
      instance.dispose();
      throw err;
    }
    return instance;
  };
  const render = async (instance: AppInstance, frame?: FrameInfo): Promise<Painter> => {
    const answer = await instance.call('render', frame ? JSON.stringify({ id: frame.id, over: frame.over }) : '');
    const split = answer.indexOf('\n');
    const damage = parseDamage(split < 0 ? '' : answer.slice(0, split));
    const commands = answer.slice(split + 1);
    return (ctx) => {
      instance.replayer.replay(commands, ctx);
      return damage;
    };
  };
  return {
    async: true,
    name: manifest.name,
    title: manifest.title,
    init: (viewport) => start('init', JSON.stringify(surfaceFor(manifest, viewport))),
    async apply(instance, input) {
      await instance.call('apply', JSON.stringify(input));
      return instance;
    },
    viewport: (instance) => instance.viewport,
    render: (instance, frame) => render(instance, frame),
    snapshot: async (instance) => Buffer.from(await instance.call('snapshot'), 'latin1'),
    async stateDigest(instance) {
      const answer = await instance.call('digest');
      return answer.startsWith('+') ? Buffer.from(answer.slice(1), 'latin1') : null;
    },
    restore: (data) => start('restore', Buffer.from(data).toString('latin1')),
    async copyText(instance) {
      const text: unknown = JSON.parse(await instance.call('copyText'));
      if (text !== null && typeof text !== 'string') throw new AppCodeError('copyText did not return text');
      return text;
    },
    // Parsed by the replica like any app's answer (protocol/selection.ts).
    selectionGeometry: async (instance): Promise<unknown> => JSON.parse(await instance.call('selection')),
    async exportDocument(instance, format) {
      const offered = offeredFormat(manifest, format);
      if (offered === 'png') return pngDocument(instance.viewport, await render(instance));
      return appDocument(offered, Buffer.from(await instance.call('export', offered), 'latin1'));
    },
    dispose: (instance) => instance.dispose(),
  };
}
