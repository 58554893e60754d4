// What the viewer checks in the server's acks before acting on them: the ones
// it hands on to mediasoup-client (a transport, a consumer, a display channel)
// or counts with (an input's seq, a copy). A hostile or broken server's
// garbage is refused here with a typed error (SessionClient.request: a
// ViewerRequestError `internal`, "malformed reply"), before any transport or
// consumer is made from it. Zod-free on purpose: the browser bundle stays
// without zod (see request-error.ts). The shapes follow protocol/media.ts
// (TransportParamsSchema, the nodes' check of the same answers).
import { LIMITS } from '../protocol/limits.js';
import type { ViewerRequest } from '../protocol/signalling.js';

/** null when `data` has the shape, else what is wrong with it. */
type Check = (data: unknown) => string | null;

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): boolean => typeof v === 'string' && v.length >= 1 && v.length <= 128;
const isText = (v: unknown, max = 256): boolean => typeof v === 'string' && v.length <= max;
const isInt = (v: unknown, min: number, max: number): boolean =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const isSeq = (v: unknown): boolean => isInt(v, 0, Number.MAX_SAFE_INTEGER);

/** The first failing rule's name, or null. */
function rules(data: unknown, of: (o: Obj) => Record<string, boolean>): string | null {
  if (!isObj(data)) return 'not an object';
  for (const [name, ok] of Object.entries(of(data))) if (!ok) return name;
  return null;
}

const iceCandidate = (c: unknown): boolean =>
  rules(c, (o) => ({
    foundation: isText(o.foundation),
    priority: isInt(o.priority, 0, 2 ** 32),
    address: isText(o.address ?? o.ip) && (o.address ?? o.ip) !== '',
    protocol: o.protocol === 'udp' || o.protocol === 'tcp',
    port: isInt(o.port, 1, 65535),
    type: isText(o.type, 16),
  })) === null;

const fingerprint = (f: unknown): boolean =>
  rules(f, (o) => ({ algorithm: isText(o.algorithm, 16), value: isText(o.value, 256) })) === null;

const transportParams: Check = (data) =>
  rules(data, (o) => ({
    id: isId(o.id),
    iceParameters:
      isObj(o.iceParameters) && isText(o.iceParameters.usernameFragment) && isText(o.iceParameters.password),
    iceCandidates:
      Array.isArray(o.iceCandidates) &&
      o.iceCandidates.length >= 1 &&
      o.iceCandidates.length <= 32 &&
      o.iceCandidates.every(iceCandidate),
    dtlsParameters:
      isObj(o.dtlsParameters) &&
      Array.isArray(o.dtlsParameters.fingerprints) &&
      o.dtlsParameters.fingerprints.length >= 1 &&
      o.dtlsParameters.fingerprints.length <= 8 &&
      o.dtlsParameters.fingerprints.every(fingerprint) &&
      (o.dtlsParameters.role === undefined || ['auto', 'client', 'server'].includes(o.dtlsParameters.role as string)),
    sctpParameters:
      o.sctpParameters === undefined ||
      (isObj(o.sctpParameters) &&
        isInt(o.sctpParameters.port, 0, 65535) &&
        isInt(o.sctpParameters.OS, 1, 65535) &&
        isInt(o.sctpParameters.MIS, 1, 65535) &&
        isInt(o.sctpParameters.maxMessageSize, 1, 2 ** 31)),
  }));

const codec = (c: unknown): boolean =>
  rules(c, (o) => ({
    mimeType: isText(o.mimeType, 64),
    payloadType: isInt(o.payloadType, 0, 127),
    clockRate: isInt(o.clockRate, 1, 2 ** 31),
  })) === null;

const consumerParams: Check = (data) =>
  rules(data, (o) => ({
    id: isId(o.id),
    producerId: isId(o.producerId),
    kind: o.kind === 'video' || o.kind === 'audio',
    rtpParameters:
      isObj(o.rtpParameters) &&
      Array.isArray(o.rtpParameters.codecs) &&
      o.rtpParameters.codecs.length >= 1 &&
      o.rtpParameters.codecs.length <= 16 &&
      o.rtpParameters.codecs.every(codec) &&
      (o.rtpParameters.encodings === undefined ||
        (Array.isArray(o.rtpParameters.encodings) && o.rtpParameters.encodings.length <= 16)),
    replicaId: isId(o.replicaId),
  }));

const dataConsumerParams: Check = (data) =>
  rules(data, (o) => ({
    id: isId(o.id),
    dataProducerId: isId(o.dataProducerId),
    sctpStreamParameters: isObj(o.sctpStreamParameters) && isInt(o.sctpStreamParameters.streamId, 0, 65535),
    label: isText(o.label, 64),
    replicaId: isId(o.replicaId),
  }));

const CHECKS: Partial<Record<ViewerRequest['type'], Check>> = {
  'transport.create': transportParams,
  'transport.connect': (d) => rules(d, (o) => ({ connected: o.connected === true })),
  consume: consumerParams,
  'tiles.consume': dataConsumerParams,
  input: (d) => rules(d, (o) => ({ seq: isSeq(o.seq), duplicate: typeof o.duplicate === 'boolean' })),
  'clipboard.copy': (d) =>
    rules(d, (o) => ({ text: o.text === null || isText(o.text, LIMITS.maxPasteChars), seq: isSeq(o.seq) })),
};

/**
 * null when the server's `data` for a `type` request may be acted on, else what is wrong with it (the
 * answers not listed here are not checked yet). Never throws, whatever `data` is.
 */
export function checkViewerReply(type: ViewerRequest['type'], data: unknown): string | null {
  const check = CHECKS[type];
  if (!check) return null;
  try {
    return check(data);
  } catch {
    // Only exotic values get here (a throwing getter, a revoked proxy): still refused.
    return 'unreadable';
  }
}
