// Static checks for the Dockerfile (no Docker engine needed). `npm run lint:docker`.
// Parses instructions and stages and fails (exit 1) when:
//   - an instruction is unknown, or the file does not start with FROM (ARG aside)
//   - COPY/ADD --from names a stage that is not defined earlier
//   - a COPY/ADD source from the build context is missing in the repo or is
//     excluded by .dockerignore
//   - the build stage's apt-get install list differs from APT_PKGS in
//     scripts/setup.sh minus chromium, iproute2, procps, etcd-server, etcd-client
//     (test/bench/demo-only: a server image talks to an etcd run elsewhere)
//   - a node-build stage's apt-get install list differs from NODE_APT_PKGS
//     (`setup.sh --node`), or the node stage installs -dev packages
//   - the final stage installs build toolchains or -dev packages
//   - ENTRYPOINT / CMD are not JSON (exec) form
//   - ENV MEDIASOUP_WORKER_BIN in the final stage is not a path COPYed into it
//   - the RTC port range in ENV is not EXPOSEd for udp and tcp
// Warnings (exit 0) for things other people may not have written yet, such as
// the ENTRYPOINT script.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dockerfilePath = join(root, process.argv[2] ?? 'Dockerfile');
const SETUP_ONLY_PKGS = new Set(['chromium', 'iproute2', 'procps', 'etcd-server', 'etcd-client']);

const errors = [];
const warnings = [];
const rel = (p) => relative(root, p) || '.';
const err = (line, msg) => errors.push(`${rel(dockerfilePath)}:${line}: ${msg}`);
const warn = (line, msg) => warnings.push(`${rel(dockerfilePath)}:${line}: ${msg}`);

// --- parse -------------------------------------------------------------------
const KNOWN = new Set(
  'FROM RUN CMD LABEL MAINTAINER EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG ONBUILD STOPSIGNAL HEALTHCHECK SHELL'.split(
    ' ',
  ),
);

/** @returns {{ line: number, cmd: string, args: string }[]} */
function parseDockerfile(text) {
  const out = [];
  const lines = text.split('\n');
  let buf = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, '');
    const trimmed = raw.trim();
    // Comments (and parser directives) are dropped, also inside continuations.
    if (trimmed.startsWith('#')) continue;
    if (buf === '' && trimmed === '') continue;
    if (buf === '') start = i + 1;
    if (/\\\s*$/.test(raw)) {
      buf += raw.replace(/\\\s*$/, '') + ' ';
      continue;
    }
    buf += raw;
    const m = /^\s*(\S+)\s*(.*)$/s.exec(buf);
    if (m) out.push({ line: start, cmd: m[1].toUpperCase(), args: m[2].trim() });
    buf = '';
  }
  if (buf.trim() !== '') err(start, 'file ends inside a line continuation');
  return out;
}

/** Splits leading --flag=value options off COPY/ADD arguments. */
function splitFlags(args) {
  const flags = {};
  let rest = args;
  for (;;) {
    const m = /^--([a-z-]+)(?:=(\S+))?\s+/.exec(rest);
    if (!m) break;
    flags[m[1]] = m[2] ?? true;
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** COPY/ADD paths: JSON array form or whitespace-separated. */
function copyPaths(rest) {
  if (rest.startsWith('[')) {
    try {
      const arr = JSON.parse(rest);
      if (Array.isArray(arr) && arr.every((s) => typeof s === 'string')) return arr;
    } catch {
      /* fall through */
    }
  }
  return rest.split(/\s+/).filter(Boolean);
}

function isJsonExecForm(args) {
  try {
    const v = JSON.parse(args);
    return Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string');
  } catch {
    return false;
  }
}

/** ENV key=value pairs (also the legacy `ENV key value` form). */
function parseEnv(args) {
  const env = {};
  const re = /([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g;
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
    const m = /^(\S+)\s+(.*)$/.exec(args);
    if (m) env[m[1]] = m[2];
    return env;
  }
  for (const m of args.matchAll(re)) env[m[1]] = m[2].replace(/^["']|["']$/g, '');
  return env;
}

/** Packages named by `apt-get install` commands in a RUN line. */
function aptInstallPackages(run) {
  const pkgs = [];
  for (const part of run.split(/&&|\|\||;|\|/)) {
    const words = part.trim().split(/\s+/);
    // allow leading VAR=value assignments, e.g. DEBIAN_FRONTEND=noninteractive
    while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0])) words.shift();
    if (!/^(apt-get|apt)$/.test(words[0] ?? '')) continue;
    const idx = words.indexOf('install');
    if (idx === -1) continue;
    for (const w of words.slice(idx + 1)) if (!w.startsWith('-')) pkgs.push(w.replace(/=.*$/, ''));
  }
  return pkgs;
}

// --- .dockerignore (Go filepath.Match subset + **, !, as BuildKit does) -------
function loadDockerignore() {
  const p = join(root, '.dockerignore');
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pat = posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/+$/, '');
      let re = '';
      for (let i = 0; i < pat.length; i++) {
        const c = pat[i];
        if (c === '*' && pat[i + 1] === '*') {
          re += pat[i + 2] === '/' ? '(?:.*/)?' : '.*';
          i += pat[i + 2] === '/' ? 2 : 1;
        } else if (c === '*') re += '[^/]*';
        else if (c === '?') re += '[^/]';
        else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, re: new RegExp(`^${re}$`) };
    });
}
const ignoreRules = loadDockerignore();
function isDockerignored(path) {
  // A path is excluded if it or any parent directory matches (last rule wins).
  const parts = posix
    .normalize(path)
    .replace(/^\.\/?/, '')
    .replace(/\/+$/, '')
    .split('/');
  let ignored = false;
  for (const rule of ignoreRules) {
    for (let n = 1; n <= parts.length; n++) {
      if (rule.re.test(parts.slice(0, n).join('/'))) {
        ignored = !rule.negate;
        break;
      }
    }
  }
  return ignored;
}

function contextSourceExists(src) {
  const clean = src.replace(/^\.\/?/, '') || '.';
  if (!/[*?[]/.test(clean)) return existsSync(join(root, clean));
  // Simple glob: only the last path segment may contain wildcards.
  const dir = posix.dirname(clean);
  const base = posix.basename(clean);
  if (/[*?[]/.test(dir) || !existsSync(join(root, dir))) return false;
  const re = new RegExp(
    `^${base
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return readdirSync(join(root, dir)).some((f) => re.test(f));
}

// --- checks ------------------------------------------------------------------
if (!existsSync(dockerfilePath)) {
  console.error(`lint-dockerfile: ${rel(dockerfilePath)} not found`);
  process.exit(1);
}
const instructions = parseDockerfile(readFileSync(dockerfilePath, 'utf8'));

/** @type {{ name: string | undefined, image: string, line: number, instrs: typeof instructions }[]} */
const stages = [];
for (const ins of instructions) {
  if (!KNOWN.has(ins.cmd)) err(ins.line, `unknown instruction "${ins.cmd}"`);
  if (ins.cmd === 'FROM') {
    const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(ins.args);
    if (!m) {
      err(ins.line, `cannot parse FROM "${ins.args}"`);
      continue;
    }
    const name = m[2]?.toLowerCase();
    if (name && stages.some((s) => s.name === name)) err(ins.line, `duplicate stage name "${name}"`);
    stages.push({ name, image: m[1], line: ins.line, instrs: [] });
    continue;
  }
  if (stages.length === 0) {
    if (ins.cmd !== 'ARG') err(ins.line, `${ins.cmd} before the first FROM`);
    continue;
  }
  stages.at(-1).instrs.push(ins);
}
if (stages.length === 0) err(1, 'no FROM instruction');
if (stages.length < 2) err(1, 'expected a multi-stage build (build + runtime)');

// COPY/ADD: --from references and build-context sources.
stages.forEach((stage, si) => {
  for (const ins of stage.instrs) {
    if (ins.cmd !== 'COPY' && ins.cmd !== 'ADD') continue;
    const { flags, rest } = splitFlags(ins.args);
    const paths = copyPaths(rest);
    if (paths.length < 2) {
      err(ins.line, `${ins.cmd} needs at least one source and a destination`);
      continue;
    }
    const sources = paths.slice(0, -1);
    if (typeof flags.from === 'string') {
      const from = flags.from.toLowerCase();
      const earlier = stages.slice(0, si);
      const ok = /^\d+$/.test(from) ? Number(from) < si : earlier.some((s) => s.name === from);
      if (!ok) err(ins.line, `${ins.cmd} --from=${flags.from}: no earlier stage with that name/index`);
      continue;
    }
    for (const src of sources) {
      if (/^https?:\/\//.test(src)) continue;
      if (src.startsWith('/') || src.split('/').includes('..')) {
        err(ins.line, `${ins.cmd} source "${src}" is outside the build context`);
      } else if (!contextSourceExists(src)) {
        err(ins.line, `${ins.cmd} source "${src}" does not exist in the repo`);
      } else if (src !== '.' && src !== './' && isDockerignored(src)) {
        err(ins.line, `${ins.cmd} source "${src}" is excluded by .dockerignore`);
      }
    }
  }
});

// apt packages: build stage vs APT_PKGS, node-build stage vs NODE_APT_PKGS in scripts/setup.sh.
const setupPath = join(root, 'scripts/setup.sh');
const setupText = readFileSync(setupPath, 'utf8');
function checkAptList(stage, arrayName, skip) {
  const array = new RegExp(`^\\s*${arrayName}=\\(([^)]*)\\)`, 'm').exec(setupText);
  if (!array) {
    err(0, `could not find ${arrayName}=(...) in ${rel(setupPath)}`);
    return;
  }
  const expected = new Set(array[1].split(/\s+/).filter((p) => p && !skip.has(p)));
  const found = new Set();
  let line = stage.line;
  for (const ins of stage.instrs) {
    if (ins.cmd !== 'RUN') continue;
    const pkgs = aptInstallPackages(ins.args);
    if (pkgs.length) line = ins.line;
    pkgs.forEach((p) => found.add(p));
  }
  const missing = [...expected].filter((p) => !found.has(p));
  const extra = [...found].filter((p) => !expected.has(p));
  if (missing.length || extra.length) {
    err(
      line,
      `${stage.name ?? stage.image} stage apt packages differ from ${arrayName} in scripts/setup.sh` +
        (skip.size ? ` (minus ${[...skip].join(', ')})` : '') +
        (missing.length ? `; missing: ${missing.join(' ')}` : '') +
        (extra.length ? `; not in setup.sh: ${extra.join(' ')}` : ''),
    );
  }
}
function checkNoBuildPackages(stage, what) {
  for (const ins of stage.instrs) {
    if (ins.cmd !== 'RUN') continue;
    const dev = aptInstallPackages(ins.args).filter((p) => /-dev$|^build-essential$|^(gcc|g\+\+|make)$/.test(p));
    if (dev.length) err(ins.line, `${what} installs build packages: ${dev.join(' ')}`);
  }
}
if (stages[0]) checkAptList(stages[0], 'APT_PKGS', SETUP_ONLY_PKGS);
const nodeBuildStage = stages.find((s) => s.name === 'node-build');
if (nodeBuildStage) checkAptList(nodeBuildStage, 'NODE_APT_PKGS', new Set());
const nodeStage = stages.find((s) => s.name === 'node');
if (nodeStage && nodeStage !== stages.at(-1)) checkNoBuildPackages(nodeStage, 'node stage');

// Final stage: runtime-only packages, exec-form entrypoint, worker path, ports.
const finalStage = stages.at(-1);
if (finalStage && stages.length > 1) {
  checkNoBuildPackages(finalStage, 'final stage');

  const env = {};
  for (const ins of finalStage.instrs) if (ins.cmd === 'ENV') Object.assign(env, parseEnv(ins.args));

  const entry = finalStage.instrs.filter((i) => i.cmd === 'ENTRYPOINT').at(-1);
  if (!entry) err(finalStage.line, 'final stage has no ENTRYPOINT');
  else if (!isJsonExecForm(entry.args)) err(entry.line, `ENTRYPOINT must be JSON exec form, got: ${entry.args}`);
  else {
    const script = JSON.parse(entry.args).find((a) => /\.(ts|mjs|js)$/.test(a));
    if (script && !existsSync(join(root, script))) {
      warn(entry.line, `ENTRYPOINT script ${script} does not exist in the repo yet`);
    }
  }
  for (const ins of finalStage.instrs.filter((i) => i.cmd === 'CMD')) {
    if (!isJsonExecForm(ins.args)) err(ins.line, `CMD must be JSON exec form, got: ${ins.args}`);
  }

  const worker = env.MEDIASOUP_WORKER_BIN;
  if (!worker) err(finalStage.line, 'final stage does not set ENV MEDIASOUP_WORKER_BIN');
  else {
    const copied = finalStage.instrs.some((ins) => {
      if (ins.cmd !== 'COPY') return false;
      const paths = copyPaths(splitFlags(ins.args).rest);
      const dest = paths.at(-1) ?? '';
      return dest === worker || (dest.endsWith('/') && posix.join(dest, posix.basename(paths[0] ?? '')) === worker);
    });
    if (!copied) err(finalStage.line, `MEDIASOUP_WORKER_BIN=${worker} is not a COPY destination in the final stage`);
  }

  const exposed = new Set();
  for (const ins of finalStage.instrs.filter((i) => i.cmd === 'EXPOSE')) {
    for (const p of ins.args.split(/\s+/)) {
      if (!/^\d+(-\d+)?(\/(tcp|udp))?$/.test(p)) err(ins.line, `bad EXPOSE port "${p}"`);
      exposed.add(p.includes('/') ? p : `${p}/tcp`);
    }
  }
  const min = env.LOCKSTEP_RTC_MIN_PORT;
  const max = env.LOCKSTEP_RTC_MAX_PORT;
  if (min && max) {
    for (const proto of ['udp', 'tcp']) {
      if (!exposed.has(`${min}-${max}/${proto}`)) {
        err(finalStage.line, `RTC port range ${min}-${max} (ENV) is not EXPOSEd as ${min}-${max}/${proto}`);
      }
    }
  }
  const port = env.LOCKSTEP_PORT ?? '3000';
  if (!exposed.has(`${port}/tcp`)) err(finalStage.line, `HTTP port ${port}/tcp is not EXPOSEd`);
}

// --- report ------------------------------------------------------------------
for (const w of warnings) console.warn(`warning: ${w}`);
if (errors.length) {
  for (const e of errors) console.error(`error: ${e}`);
  console.error(`lint-dockerfile: ${errors.length} error(s)`);
  process.exit(1);
}
const size = statSync(dockerfilePath).size;
console.log(
  `lint-dockerfile: ${rel(dockerfilePath)} OK (${stages.length} stages: ${stages
    .map((s) => s.name ?? s.image)
    .join(' -> ')}; ${instructions.length} instructions, ${size} bytes)`,
);
