// The sandbox's worker thread (plain JS: it must start without a TypeScript
// loader). It runs one app instance in a node:vm context that holds only
// frozen JavaScript intrinsics and the SDK's capabilities, made inside the
// context: no clocks, randomness, timers, network, filesystem, process,
// require or import. Everything that crosses the boundary is a string, made
// and read inside the context within the call's time bound, so no host object
// (whose constructor would lead back to the host's Function) ever enters it.
import { types } from 'node:util';
import vm from 'node:vm';
import { workerData } from 'node:worker_threads';

const { port, bundle, fonts, limits } = workerData;

function reply(message) {
  port.postMessage(message);
}

// Runs inside the context (its source is evaluated there): installs the SDK
// host, removes what would make an app nondeterministic, freezes intrinsics
// and returns the dispatcher the worker calls.
function prelude(fontsJson, maxCommands, maxImagePixels) {
  const g = globalThis;
  const refuse = (what) =>
    function refused() {
      throw new Error(`${what} is not available to Lockstep apps: apps must be deterministic`);
    };
  g.Math.random = refuse('Math.random');
  const FakeDate = refuse('Date');
  FakeDate.now = refuse('Date.now');
  FakeDate.parse = refuse('Date.parse');
  FakeDate.UTC = refuse('Date.UTC');
  g.Date = FakeDate;
  for (const name of ['Intl', 'WebAssembly', 'SharedArrayBuffer', 'Atomics', 'FinalizationRegistry', 'WeakRef']) {
    delete g[name];
  }
  // Locale-dependent results differ between hosts.
  g.String.prototype.localeCompare = refuse('String.prototype.localeCompare');
  for (const C of [g.Number, g.Date, g.Array, g.Object, g.BigInt]) {
    if (C && C.prototype) C.prototype.toLocaleString = refuse('toLocaleString');
  }

  let commands = [];
  const push = (cmd) => {
    if (commands.length >= maxCommands) throw new Error(`more than ${maxCommands} drawing commands before a frame`);
    commands.push(cmd);
  };
  const num = (v) => +v;
  const surfaceIds = new WeakMap();
  // Raw pixels (putImageData) cross as base64 in the command list; their total per frame is bounded.
  let imagePixels = 0;
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const base64 = (bytes) => {
    let out = '';
    let chunk = [];
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
      chunk.push(
        B64.charCodeAt(n >> 18),
        B64.charCodeAt((n >> 12) & 63),
        i + 1 < bytes.length ? B64.charCodeAt((n >> 6) & 63) : 61,
        i + 2 < bytes.length ? B64.charCodeAt(n & 63) : 61,
      );
      if (chunk.length >= 8192) {
        out += String.fromCharCode(...chunk);
        chunk = [];
      }
    }
    return out + String.fromCharCode(...chunk);
  };
  const imageSize = (width, height) => {
    const w = num(width);
    const h = num(height);
    if (
      !Number.isInteger(w) ||
      !Number.isInteger(h) ||
      w < 1 ||
      h < 1 ||
      w > 16384 ||
      h > 16384 ||
      w * h > maxImagePixels
    )
      throw new RangeError(`image data of ${w}×${h} pixels is out of bounds`);
    return [w, h];
  };
  const PROPS = {
    fillStyle: '#000000',
    strokeStyle: '#000000',
    lineWidth: 1,
    lineCap: 'butt',
    lineJoin: 'miter',
    globalAlpha: 1,
    globalCompositeOperation: 'source-over',
    font: '10px sans-serif',
    textAlign: 'start',
    textBaseline: 'alphabetic',
  };
  const NUMERIC = {
    translate: 2,
    scale: 2,
    fillRect: 4,
    strokeRect: 4,
    clearRect: 4,
    moveTo: 2,
    lineTo: 2,
    rect: 4,
    quadraticCurveTo: 4,
  };
  function makeContext(target) {
    const state = { ...PROPS };
    const stack = [];
    const ctx = {};
    for (const p of Object.keys(PROPS)) {
      Object.defineProperty(ctx, p, {
        get: () => state[p],
        set: (v) => {
          const value = typeof PROPS[p] === 'number' ? num(v) : String(v);
          state[p] = value;
          push([target, 'set', p, value]);
        },
      });
    }
    for (const [name, arity] of Object.entries(NUMERIC)) {
      ctx[name] = (...args) => push([target, name, ...args.slice(0, arity).map(num)]);
    }
    ctx.save = () => {
      stack.push({ ...state });
      push([target, 'save']);
    };
    ctx.restore = () => {
      if (stack.length > 0) Object.assign(state, stack.pop());
      push([target, 'restore']);
    };
    ctx.beginPath = () => push([target, 'beginPath']);
    ctx.closePath = () => push([target, 'closePath']);
    ctx.stroke = () => push([target, 'stroke']);
    ctx.fill = (rule) => push([target, 'fill', rule === 'evenodd' ? 'evenodd' : 'nonzero']);
    ctx.clip = (rule) => push([target, 'clip', rule === 'evenodd' ? 'evenodd' : 'nonzero']);
    ctx.arc = (x, y, r, a0, a1, ccw) => push([target, 'arc', num(x), num(y), num(r), num(a0), num(a1), !!ccw]);
    ctx.fillText = (text, x, y) => push([target, 'fillText', String(text), num(x), num(y)]);
    ctx.createImageData = (width, height) => {
      const [w, h] = imageSize(width, height);
      return Object.freeze({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4) });
    };
    ctx.putImageData = (image, x, y) => {
      const [w, h] = imageSize(image.width, image.height);
      const data = image.data;
      if (!(data instanceof Uint8ClampedArray) || data.length !== w * h * 4)
        throw new TypeError('putImageData takes { width, height, data: Uint8ClampedArray of width × height × 4 }');
      imagePixels += w * h;
      if (imagePixels > maxImagePixels) throw new RangeError(`more than ${maxImagePixels} pixels put before a frame`);
      push([target, 'putImageData', num(x), num(y), w, h, base64(data)]);
    };
    ctx.drawImage = (surface, x, y) => {
      const id = surfaceIds.get(surface);
      if (id === undefined) throw new TypeError('drawImage takes a surface from createSurface');
      push([target, 'drawImage', id, num(x), num(y)]);
    };
    const reset = () => {
      Object.assign(state, PROPS);
      stack.length = 0;
    };
    return { ctx: Object.freeze(ctx), reset };
  }
  let nextSurface = 1;
  // The host saves and restores the frame's context around every render: so does the recorder.
  const frame = makeContext(0);

  const fontTable = JSON.parse(fontsJson);
  const loadedFonts = new Map();
  function loadFont(family) {
    const known = loadedFonts.get(family);
    if (known) return known;
    const f = fontTable[family];
    if (!f) throw new Error(`no font family "${family}" (declare it in the app manifest's fonts)`);
    // Runs of [firstCodePoint, lastCodePoint, advance...]: binary search by start.
    const runs = f.runs;
    const metrics = Object.freeze({
      unitsPerEm: f.unitsPerEm,
      ascender: f.ascender,
      descender: f.descender,
      advanceOf(cp) {
        let lo = 0;
        let hi = runs.length - 1;
        while (lo <= hi) {
          const mid = (lo + hi) >> 1;
          const run = runs[mid];
          if (cp < run[0]) hi = mid - 1;
          else if (cp > run[1]) lo = mid + 1;
          else return run[2 + (cp - run[0])];
        }
        return null;
      },
    });
    const font = Object.freeze({ family, metrics, spec: (px) => `${px}px "${family}"` });
    loadedFonts.set(family, font);
    return font;
  }
  const host = Object.freeze({
    createSurface(width, height) {
      const id = nextSurface++;
      const w = Math.max(1, Math.ceil(num(width)));
      const h = Math.max(1, Math.ceil(num(height)));
      push([0, 'surface', id, w, h]);
      const { ctx } = makeContext(id);
      const surface = Object.freeze({ width: w, height: h, getContext: () => ctx });
      surfaceIds.set(surface, id);
      return surface;
    },
    loadFont,
  });
  Object.defineProperty(g, Symbol.for('lockstep.sdk.host'), { value: host });

  // Frozen prototypes break plain code that assigns `obj.toString = ...` (a
  // read-only inherited property refuses the assignment): for the properties
  // libraries commonly shadow, the prototype gets an accessor whose setter
  // defines the property on the object instead, as SES does.
  const overridable = (proto, keys) => {
    for (const key of keys) {
      const d = Object.getOwnPropertyDescriptor(proto, key);
      if (!d || !('value' in d) || !d.configurable) continue;
      const value = d.value;
      Object.defineProperty(proto, key, {
        get() {
          return value;
        },
        set(v) {
          if (this === proto) throw new TypeError(`Cannot assign to read only property '${String(key)}'`);
          Object.defineProperty(this, key, { value: v, writable: true, enumerable: true, configurable: true });
        },
        enumerable: d.enumerable,
        configurable: false,
      });
    }
  };
  overridable(Object.prototype, Reflect.ownKeys(Object.prototype));
  overridable(Function.prototype, ['constructor', 'toString', 'apply', 'call', 'bind']);
  overridable(Array.prototype, ['constructor', 'toString', 'push', 'join']);
  for (const E of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
    overridable(E.prototype, ['constructor', 'name', 'message', 'toString']);
  }
  overridable(Promise.prototype, ['constructor', 'then']);

  // Freeze every intrinsic reachable from the global object.
  const seen = new Set();
  const freeze = (o) => {
    if ((typeof o !== 'object' && typeof o !== 'function') || o === null || seen.has(o)) return;
    seen.add(o);
    Object.freeze(o);
    for (const key of Reflect.ownKeys(o)) {
      const d = Object.getOwnPropertyDescriptor(o, key);
      if (d && 'value' in d) freeze(d.value);
      else if (d) {
        freeze(d.get);
        freeze(d.set);
      }
    }
    freeze(Object.getPrototypeOf(o));
  };
  for (const key of Reflect.ownKeys(g)) {
    if (key !== 'globalThis') freeze(g[key]);
  }

  const latin1 = (bytes) => {
    if (!(bytes instanceof Uint8Array))
      throw new TypeError('snapshot, stateDigest and exportDocument must return a Uint8Array');
    let s = '';
    for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
    return s;
  };
  const fromLatin1 = (s) => {
    const bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    return bytes;
  };
  let app = null;
  let state;
  const viewportJson = () => {
    const v = app.viewport(state);
    return JSON.stringify({ width: num(v.width), height: num(v.height) });
  };
  /** The app's damage answer as JSON, or null when it is nothing JSON can carry. */
  function damageJson(damage) {
    if (damage === undefined || damage === null) return 'null';
    try {
      return JSON.stringify(damage) ?? 'null';
    } catch {
      return 'null';
    }
  }
  function dispatch(op, arg) {
    switch (op) {
      case 'load':
        app = arg;
        if (!app || typeof app.init !== 'function' || typeof app.apply !== 'function')
          throw new TypeError('the entry module must export default an app definition (defineApp)');
        return '';
      case 'init':
        state = app.init(JSON.parse(arg));
        return viewportJson();
      case 'apply':
        state = app.apply(state, JSON.parse(arg));
        return viewportJson();
      case 'restore':
        state = app.restore(fromLatin1(arg));
        return viewportJson();
      case 'render': {
        frame.reset();
        // The host's FrameInfo ({ id, over }), or none (an export): the app's answer is its damage report.
        const info = arg ? JSON.parse(arg) : undefined;
        const damage = app.render(state, frame.ctx, info);
        const out = JSON.stringify(commands);
        commands = [];
        imagePixels = 0;
        // The report first, on its own line (JSON never holds a raw newline); the host checks it.
        return `${damageJson(damage)}\n${out}`;
      }
      case 'snapshot':
        return latin1(app.snapshot(state));
      case 'digest':
        // '-': the app defines no stateDigest (the host hashes its snapshot); '+' and the digest's bytes otherwise.
        return typeof app.stateDigest === 'function' ? `+${latin1(app.stateDigest(state))}` : '-';
      case 'export':
        if (typeof app.exportDocument !== 'function') throw new TypeError('the app has no exportDocument');
        return latin1(app.exportDocument(state, arg));
      case 'selection': {
        const geometry = typeof app.selectionGeometry === 'function' ? app.selectionGeometry(state) : null;
        return JSON.stringify(geometry === undefined ? null : geometry);
      }
      case 'copyText': {
        const t = typeof app.copyText === 'function' ? app.copyText(state) : null;
        return JSON.stringify(t === null || t === undefined ? null : String(t));
      }
      default:
        throw new Error(`unknown sandbox call ${op}`);
    }
  }
  // The worker writes each call into `inbox`, which only this closure and the
  // worker hold; `__call` is a fixed global property, so an app can neither
  // hijack the dispatcher nor trap the worker's writes.
  const inbox = { op: '', arg: '', err: undefined };
  Object.defineProperty(g, '__call', {
    value: () => {
      const out = dispatch(inbox.op, inbox.arg === undefined ? undefined : inbox.arg);
      if (typeof out !== 'string') throw new TypeError('sandbox call did not produce a string');
      return out;
    },
  });
  Object.defineProperty(g, '__load', { value: (def) => dispatch('load', def) });
  Object.defineProperty(g, '__describe', {
    value: () => {
      const e = inbox.err;
      inbox.err = undefined;
      return (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).slice(0, 2000);
    },
  });
  // (A contextified global object cannot be frozen; its values are, and these three are fixed.)
  return inbox;
}

const context = vm.createContext(Object.create(null), {
  name: 'lockstep-app',
  codeGeneration: { strings: false, wasm: false },
  microtaskMode: 'afterEvaluate',
});
const callScript = new vm.Script('__call()', { filename: 'lockstep-call' });

const describeScript = new vm.Script('__describe()', { filename: 'lockstep-describe' });
let inbox;

/** The vm's timeout error; read without running code (an app may throw a Proxy or an object with getters). */
function isTimeout(err) {
  if (!types.isNativeError(err) || types.isProxy(err)) return false;
  const code = Object.getOwnPropertyDescriptor(err, 'code');
  return code !== undefined && 'value' in code && code.value === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

function inContext(fn) {
  try {
    const value = fn();
    return typeof value === 'string' ? { ok: true, value } : { ok: false, timeout: false, message: 'not a string' };
  } catch (err) {
    if (isTimeout(err)) return { ok: false, timeout: true, message: `timed out after ${limits.callMs} ms` };
    // Only a string made inside the context, within the time bound, leaves it.
    let message = 'app error';
    // Before the prelude returned, only our own code ran: its error is safe to read.
    if (!inbox) message = `sandbox setup failed: ${String(err && err.message)}`;
    else {
      inbox.err = err;
      try {
        const m = describeScript.runInContext(context, { timeout: limits.callMs });
        if (typeof m === 'string') message = m;
      } catch {
        // a hostile error object: keep the generic message
      }
    }
    return { ok: false, timeout: false, message };
  }
}

const started = inContext(() => {
  inbox = vm.runInContext(`(${prelude.toString()})`, context, { timeout: limits.callMs })(
    fonts,
    limits.maxCommands,
    limits.maxImagePixels,
  );
  const code = `__load((function () { ${bundle}\n; return __lockstepApp.default; })())`;
  return vm.runInContext(code, context, { filename: 'app-bundle.js', timeout: limits.callMs });
});
reply(started);

port.on('message', (msg) => {
  if (!started.ok) return reply(started);
  inbox.op = String(msg.op);
  inbox.arg = msg.arg === undefined ? undefined : String(msg.arg);
  reply(inContext(() => callScript.runInContext(context, { timeout: limits.callMs })));
});
