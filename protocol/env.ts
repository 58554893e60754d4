// Reading typed settings from environment variables, shared by the server's and
// the renderer node's config modules. An empty variable counts as unset; a
// malformed one stops start-up with a message naming it.

export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v)) throw new Error(`config: ${name} must be an integer, got "${raw}"`);
  return v;
}

export function envBool(name: string, fallback: boolean): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  return raw === '1' || raw.toLowerCase() === 'true';
}

export function envStr(name: string): string | undefined {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? undefined : raw;
}
