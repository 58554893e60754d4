// Signalling over socket.io. Each side sends requests as one discriminated
// union on the `request` event with an ack carrying a Result; the server pushes
// notifications as another union on `notify`. Parse with the schemas here:
// nothing else trusts the network.
import { z } from 'zod';
import { AppPolicySchema, AppSpecSchema, BundleHashSchema } from './bundle.js';
import { RehomeDirectiveIdSchema } from './cluster-state.js';
import { InputEventSchema, SequencedInputSchema, type SequencedInput } from './input.js';
import { LIMITS } from './limits.js';
import { AppFailureReasonSchema, RefusalCodeSchema } from './replica-failure.js';
import {
  DtlsParametersSchema,
  RtpCapabilitiesSchema,
  RtpParametersSchema,
  SctpStreamParametersSchema,
  TransportParamsSchema,
} from './media.js';
import { SelectionGeometrySchema, type SelectionGeometry } from './selection.js';
import type { ConsumerParams, DataConsumerParams, TransportParams } from './media.js';
import type { Result } from './errors.js';
import {
  AppRefSchema,
  IdSchema,
  type AppCatalogEntry,
  type AppRef,
  type ReplicaInfo,
  type SessionInfo,
} from './session.js';

// ---------------------------------------------------------------- viewer → server

export const ShareRoleSchema = z.enum(['control', 'view']);
export type ShareRole = z.infer<typeof ShareRoleSchema>;

export const ViewerRequestSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('sessions.list') }).strict(),
  z.object({ type: z.literal('apps.list') }).strict(),
  /**
   * Answered at once, nothing read or written: the viewer asks its input
   * route's server while an input waits for its ack, to tell a server that is
   * slow to commit (it answers this) from one it cannot reach (issue 13).
   */
  z.object({ type: z.literal('ping') }).strict(),
  z
    .object({
      type: z.literal('sessions.create'),
      /** A built-in or published app: name, name@version, or bundle hash (protocol/bundle.ts). */
      app: AppSpecSchema,
      /** At least 2: a session must survive the loss of the host it runs on. */
      replicationFactor: z.number().int().min(LIMITS.minReplicationFactor).max(LIMITS.maxReplicationFactor).optional(),
      width: z.number().int().min(LIMITS.minViewport).max(LIMITS.maxViewportWidth).optional(),
      height: z.number().int().min(LIMITS.minViewport).max(LIMITS.maxViewportHeight).optional(),
    })
    .strict(),
  z.object({ type: z.literal('sessions.close'), sessionId: IdSchema }).strict(),
  z.object({ type: z.literal('session.join'), sessionId: IdSchema, clientId: IdSchema }).strict(),
  z.object({ type: z.literal('session.leave'), sessionId: IdSchema }).strict(),
  /** `sctp`: display channels too (the tile display, `?display=tiles`); absent for a video-only viewer. */
  z.object({ type: z.literal('transport.create'), sessionId: IdSchema, sctp: z.boolean().optional() }).strict(),
  z
    .object({ type: z.literal('transport.connect'), transportId: IdSchema, dtlsParameters: DtlsParametersSchema })
    .strict(),
  /** The tile display: consume a replica's display channel on a transport opened with `sctp`. */
  z.object({ type: z.literal('tiles.consume'), transportId: IdSchema, replicaId: IdSchema }).strict(),
  /** The channel is open in the page: count it as watching the replica and have its node send a whole frame. */
  z.object({ type: z.literal('tiles.start'), dataConsumerId: IdSchema }).strict(),
  z.object({ type: z.literal('tiles.close'), dataConsumerId: IdSchema }).strict(),
  z
    .object({
      type: z.literal('consume'),
      transportId: IdSchema,
      producerId: IdSchema,
      rtpCapabilities: RtpCapabilitiesSchema,
      /** Warm standbys stay paused at the SFU until needed. */
      paused: z.boolean(),
    })
    .strict(),
  z.object({ type: z.literal('consumer.resume'), consumerId: IdSchema, keyFrame: z.boolean().optional() }).strict(),
  z.object({ type: z.literal('consumer.pause'), consumerId: IdSchema }).strict(),
  z.object({ type: z.literal('consumer.close'), consumerId: IdSchema }).strict(),
  z
    .object({
      type: z.literal('input'),
      sessionId: IdSchema,
      /** Per-client monotonically increasing; (clientId, clientSeq) makes resends idempotent. */
      clientSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      event: InputEventSchema,
    })
    .strict(),
  z
    .object({
      type: z.literal('share.create'),
      sessionId: IdSchema,
      /** `view` links may watch but never send input. */
      role: ShareRoleSchema,
      ttlSeconds: z.number().int().min(LIMITS.minShareTtlSeconds).max(LIMITS.maxShareTtlSeconds).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('clipboard.copy'),
      sessionId: IdSchema,
      /** The copy reflects the state after this seq (the viewer's last acked input). */
      atSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      /** The replica the viewer is watching, if any: preferred, so the copy matches the picture. */
      replicaId: IdSchema.optional(),
    })
    .strict(),
]);
export type ViewerRequest = z.infer<typeof ViewerRequestSchema>;

export interface JoinResult {
  session: SessionInfo;
  routerRtpCapabilities: unknown;
  /** Highest clientSeq of this client already in the log: resend everything above it. */
  lastClientSeq: number;
  /** `view`: this credential may watch but not send input (a view-only share link). */
  role: 'control' | 'view';
}

export interface InputAck {
  seq: number;
  /** True when this (clientId, clientSeq) was already logged: a resend, not a new input. */
  duplicate: boolean;
}

/** The result type of each viewer request, keyed by its `type`. */
export interface ViewerResponses {
  'sessions.list': { sessions: SessionInfo[] };
  'apps.list': { apps: AppCatalogEntry[] };
  ping: { ok: true };
  'sessions.create': { session: SessionInfo };
  'sessions.close': { closed: true };
  'session.join': JoinResult;
  'session.leave': { left: true };
  'transport.create': TransportParams;
  'transport.connect': { connected: true };
  'tiles.consume': DataConsumerParams;
  'tiles.start': { started: true };
  'tiles.close': { closed: true };
  consume: ConsumerParams;
  'consumer.resume': { resumed: true };
  'consumer.pause': { paused: true };
  'consumer.close': { closed: true };
  input: InputAck;
  'share.create': ShareLink;
  'clipboard.copy': CopyResult;
}

/** What the app offers to the clipboard (its selection), taken at `seq`; null when nothing is selected. */
export interface CopyResult {
  text: string | null;
  seq: number;
}

/** A share link: the secret is shown once, only its hash is stored. */
export interface ShareLink {
  /** Token id (not secret): what `POST /api/tokens/revoke` takes. */
  id: string;
  sessionId: string;
  role: ShareRole;
  token: string;
  /** Absolute link built from the Host the viewer connected to. */
  url: string;
  /** ms since the epoch. */
  expiresAt: number;
}

// ---------------------------------------------------------------- server → viewer

export type ViewerNotification =
  | { type: 'session.update'; session: SessionInfo }
  | { type: 'session.closed'; sessionId: string; reason: string }
  | { type: 'consumer.closed'; consumerId: string; replicaId: string; reason: string }
  | { type: 'consumer.score'; consumerId: string; score: number; producerScore: number }
  /** A replica's selection geometry changed (at its applied `seq`); it only positions touch handles. */
  | {
      type: 'selection.geometry';
      sessionId: string;
      replicaId: string;
      seq: number;
      selection: SelectionGeometry | null;
    };

// ---------------------------------------------------------------- node → server

export const NodeAppSchema = AppRefSchema;

const StateHashSchema = z.string().regex(/^[0-9a-f]{16,64}$/);

/** A replica ticket (server/replica-tickets.ts): base64url HMAC-SHA256, handed out with replica.create. */
export const ReplicaTicketSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

/**
 * A replica a node kept running while it had no server (its server died, or it
 * moved to another one): announced at registration so the server can adopt it
 * instead of rebuilding it. A claim, not a fact: see server/replica-adoption.ts.
 */
export const HeldReplicaSchema = z
  .object({
    replicaId: IdSchema,
    sessionId: IdSchema,
    app: AppRefSchema,
    appliedSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    stateHash: StateHashSchema,
    /** The ticket the server gave with replica.create: without a valid one for this node's admission, no adoption. */
    ticket: ReplicaTicketSchema,
  })
  .strict();
export type HeldReplica = z.infer<typeof HeldReplicaSchema>;

/** The server's answer on held replicas: those it adopted (the rest the node closes), with the log head. */
export const AdoptedReplicasSchema = z
  .array(z.object({ replicaId: IdSchema, headSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }).strict())
  .max(LIMITS.maxHeldReplicas);
export type AdoptedReplica = z.infer<typeof AdoptedReplicasSchema>[number];

/** An exported file as base64 (a node's answer, or relayed by its home server), or null: none. */
export const ExportedFileDataSchema = z
  .string()
  .max(LIMITS.maxSnapshotBase64)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/)
  .nullable();

export const NodeRequestSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('node.register'),
      nodeId: IdSchema,
      hostId: IdSchema,
      apps: z.array(AppRefSchema).max(64),
      /** App names this node keeps warm (specialised for): placement prefers it for them. Default: all its apps. */
      warmApps: z.array(z.string().min(1).max(LIMITS.maxAppNameLength)).max(64).optional(),
      capacity: z
        .object({ cores: z.number().int().min(1).max(1024), maxReplicas: z.number().int().min(0).max(1000) })
        .strict(),
      /** What the node's owner lets it run (`lockstep node --apps`); default: built-in apps only. */
      appPolicy: AppPolicySchema.optional(),
      /** Bundle hashes in the node's cache (warm). */
      bundles: z.array(BundleHashSchema).max(LIMITS.maxAdvertisedBundles).optional(),
      /** Replicas the node still runs from before (optional: older nodes announce none and get fresh ones). */
      held: z.array(HeldReplicaSchema).max(LIMITS.maxHeldReplicas).optional(),
    })
    .strict(),
  /** The node's bundle cache changed (a fetch, an eviction): its warm set now. */
  z
    .object({ type: z.literal('node.bundles'), bundles: z.array(BundleHashSchema).max(LIMITS.maxAdvertisedBundles) })
    .strict(),
  /** A piece of a published bundle, from `offset`; the node assembles and verifies the whole against `hash`. */
  z
    .object({
      type: z.literal('bundle.fetch'),
      hash: BundleHashSchema,
      offset: z.number().int().min(0).max(LIMITS.maxBundleBytes),
    })
    .strict(),
  z.object({ type: z.literal('transport.create'), replicaId: IdSchema }).strict(),
  z
    .object({ type: z.literal('transport.connect'), transportId: IdSchema, dtlsParameters: DtlsParametersSchema })
    .strict(),
  z
    .object({
      type: z.literal('produce'),
      replicaId: IdSchema,
      transportId: IdSchema,
      kind: z.literal('video'),
      rtpParameters: RtpParametersSchema,
    })
    .strict(),
  /** The replica's display channel (tile display), on its send transport: ordered and reliable only. */
  z
    .object({
      type: z.literal('produceData'),
      replicaId: IdSchema,
      transportId: IdSchema,
      sctpStreamParameters: SctpStreamParametersSchema,
      label: z.string().max(32),
    })
    .strict(),
  z
    .object({
      type: z.literal('replica.status'),
      replicaId: IdSchema,
      appliedSeq: z.number().int().min(0),
      stateHash: z.string().regex(/^[0-9a-f]{16,64}$/),
      framesSent: z.number().int().min(0),
      /** The app's selection ends at `appliedSeq` (touch handles); absent or null: none. */
      selection: SelectionGeometrySchema.nullable().optional(),
      /** No viewer watches this stream's video, so the replica sends no video frames (a flat framesSent is not a stall). */
      videoIdle: z.boolean().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('inputs.fetch'),
      replicaId: IdSchema,
      fromSeq: z.number().int().min(1),
      toSeq: z.number().int().min(1),
    })
    .strict(),
  z.object({ type: z.literal('node.leave') }).strict(),
  /** Liveness of the node's link (protocol/node-liveness.ts): answered by the server's event loop alone. */
  z.object({ type: z.literal('node.ping') }).strict(),
  z
    .object({
      type: z.literal('node.heartbeat'),
      /** CPU load 0..1 (1-minute load average over cores). */
      load: z.number().min(0).max(64),
    })
    .strict(),
  z
    .object({
      type: z.literal('replica.snapshot'),
      replicaId: IdSchema,
      seq: z.number().int().min(0),
      stateHash: z.string().regex(/^[0-9a-f]{16,64}$/),
      data: z
        .string()
        .max(LIMITS.maxSnapshotBase64)
        .regex(/^[A-Za-z0-9+/]*={0,2}$/),
    })
    .strict(),
  z.object({ type: z.literal('snapshot.fetch'), replicaId: IdSchema }).strict(),
  z
    .object({
      type: z.literal('replica.refuse'),
      replicaId: IdSchema,
      /** Absent (older nodes): treated as transient, so free text never marks a bundle refused. */
      code: RefusalCodeSchema.optional(),
      reason: z.string().max(500),
    })
    .strict(),
  /** The app failed in a running replica (the node closed it): one host's word, counted per seq by the server. */
  z
    .object({
      type: z.literal('replica.failed'),
      replicaId: IdSchema,
      reason: AppFailureReasonSchema,
      /** The input it failed on (or the seq it started from, when init/restore failed). */
      seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      message: z.string().max(300),
    })
    .strict(),
  z
    .object({
      /**
       * Whether the server wants a thumbnail from this replica now (the rule of `replica.thumbnail`), asked
       * before the node draws and encodes one: a warm standby's would be declined, and drawing it is most of
       * what a standby would spend on thumbnails. Nothing is kept; the thumbnail itself may still be declined.
       */
      type: z.literal('replica.thumbnailOffer'),
      replicaId: IdSchema,
    })
    .strict(),
  z
    .object({
      type: z.literal('replica.thumbnail'),
      replicaId: IdSchema,
      /** A small JPEG of the replica's last frame (the app area), for the session list. */
      jpegBase64: z
        .string()
        .min(4)
        .max(LIMITS.maxThumbnailBase64)
        .regex(/^[A-Za-z0-9+/]*={0,2}$/),
    })
    .strict(),
  z
    .object({
      type: z.literal('replica.copyResult'),
      replicaId: IdSchema,
      requestId: IdSchema,
      text: z.string().max(LIMITS.maxPasteChars).nullable(),
      seq: z.number().int().min(0),
    })
    .strict(),
  z
    .object({
      type: z.literal('replica.exportResult'),
      replicaId: IdSchema,
      requestId: IdSchema,
      seq: z.number().int().min(0),
      /** base64 of the exported file, or null with `error` when the replica could not export. */
      data: ExportedFileDataSchema,
      error: z.string().max(500).optional(),
    })
    .strict(),
]);
export type NodeRequest = z.infer<typeof NodeRequestSchema>;

export interface NodeResponses {
  /**
   * `credential`: the node's own secret, bound to its nodeId, issued when it
   * joined with the cluster join token; it reconnects with it from then on.
   */
  /** `hostId`: the host the node was admitted as (from its join token, not from its own claim). */
  /** `adopted`: the held replicas the server took over (absent: none); the node closes the others. */
  'node.register': {
    registered: true;
    hostId: string;
    credential?: string;
    credentialExpiresAt?: number;
    adopted?: AdoptedReplica[];
  };
  'transport.create': TransportParams & { routerRtpCapabilities: unknown };
  'transport.connect': { connected: true };
  produce: { producerId: string };
  produceData: { dataProducerId: string };
  'replica.status': { headSeq: number };
  /** `compactedThrough`: the log holds nothing at or below this seq; start from the snapshot. */
  'inputs.fetch': { inputs: SequencedInput[]; headSeq: number; compactedThrough: number };
  'node.leave': { left: true };
  'node.heartbeat': { ok: true };
  'node.ping': { ok: true };
  'node.bundles': { ok: true };
  'bundle.fetch': BundleChunkWire;
  /** `confirmed`: a quorum of hosts agreed on this checkpoint; `stored`: and it became the latest snapshot. */
  'replica.snapshot': { stored: boolean; confirmed: boolean };
  'snapshot.fetch': StoredSnapshotWire | null;
  'replica.refuse': { ok: true };
  'replica.failed': { ok: true };
  /** `wanted` false: the session's thumbnails come from another replica; hold this one's back a while. */
  'replica.thumbnailOffer': { wanted: boolean };
  'replica.thumbnail': { stored: boolean; wanted: boolean };
  'replica.copyResult': { ok: true };
  'replica.exportResult': { ok: true };
}

/** One chunk of a bundle: `data` (base64) holds the bytes from `offset`; `size` is the whole bundle's. */
export interface BundleChunkWire {
  hash: string;
  size: number;
  offset: number;
  data: string;
}

/** Nodes parse the chunk too: a relay or a hostile server may send anything. */
export const BundleChunkWireSchema = z
  .object({
    hash: BundleHashSchema,
    size: z.number().int().min(1).max(LIMITS.maxBundleBytes),
    offset: z.number().int().min(0).max(LIMITS.maxBundleBytes),
    data: z
      .string()
      .max(Math.ceil(LIMITS.bundleChunkBytes / 3) * 4)
      .regex(/^[A-Za-z0-9+/]*={0,2}$/),
  })
  .strict();

export interface StoredSnapshotWire {
  seq: number;
  stateHash: string;
  /** base64 of the app's canonical snapshot bytes. */
  data: string;
}

const SeqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Base64Schema = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/);
/** Keys a (newer) server adds beyond these are dropped, not refused: nothing reads them. */
const Ack = <T extends z.ZodRawShape>(shape: T) => z.object(shape).strip();
const okAck = Ack({ ok: z.literal(true) });

/**
 * What the server's ack to each node request must hold (its `data`), keyed by the request's `type`: a node
 * acts on none it did not parse (a hostile or broken server, or a man in the middle of a misconfigured link).
 * Typed against NodeResponses, so a schema that drifts from the server's answer does not compile.
 */
export const NodeResponseSchemas: {
  readonly [T in keyof NodeResponses]: z.ZodType<NodeResponses[T], z.ZodTypeDef, unknown>;
} = {
  'node.register': Ack({
    registered: z.literal(true),
    hostId: IdSchema,
    /** Goes into the next handshake's auth: printable, and no longer than any token the server takes. */
    credential: z
      .string()
      .min(1)
      .max(LIMITS.maxTokenLength)
      .regex(/^[\x21-\x7e]+$/)
      .optional(),
    credentialExpiresAt: z.number().int().min(0).optional(),
    adopted: AdoptedReplicasSchema.optional(),
  }),
  'transport.create': TransportParamsSchema.extend({ routerRtpCapabilities: RtpCapabilitiesSchema }),
  'transport.connect': Ack({ connected: z.literal(true) }),
  produce: Ack({ producerId: IdSchema }),
  produceData: Ack({ dataProducerId: IdSchema }),
  'replica.status': Ack({ headSeq: SeqSchema }),
  'inputs.fetch': Ack({
    inputs: z.array(SequencedInputSchema).max(LIMITS.maxFetchBatch),
    headSeq: SeqSchema,
    compactedThrough: SeqSchema,
  }),
  'node.leave': Ack({ left: z.literal(true) }),
  'node.heartbeat': okAck,
  'node.ping': okAck,
  'node.bundles': okAck,
  'bundle.fetch': BundleChunkWireSchema,
  'replica.snapshot': Ack({ stored: z.boolean(), confirmed: z.boolean() }),
  'snapshot.fetch': Ack({
    seq: SeqSchema,
    stateHash: StateHashSchema,
    data: Base64Schema(LIMITS.maxSnapshotBase64),
  }).nullable(),
  'replica.refuse': okAck,
  'replica.failed': okAck,
  'replica.thumbnailOffer': Ack({ wanted: z.boolean() }),
  'replica.thumbnail': Ack({ stored: z.boolean(), wanted: z.boolean() }),
  'replica.copyResult': okAck,
  'replica.exportResult': okAck,
};

// ---------------------------------------------------------------- server → node

export interface ReplicaAssignment {
  replicaId: string;
  sessionId: string;
  app: AppRef;
  width: number;
  height: number;
  /** Highest seq in the log at assignment: the replica catches up to it before it is live. */
  headSeq: number;
  /** The server's stored snapshot to start from (fetch it with snapshot.fetch), or null: start from init. */
  snapshot: { seq: number; stateHash: string } | null;
}

export type NodeNotification =
  /** `ticket`: stamped by the node gateway (replica-tickets.ts); kept by the node to claim the replica back. */
  | { type: 'replica.create'; assignment: ReplicaAssignment; ticket?: string }
  | { type: 'replica.close'; replicaId: string; reason: string }
  | { type: 'inputs'; replicaId: string; inputs: SequencedInput[] }
  | { type: 'replica.statusRequest'; replicaId: string }
  /** Send your state at exactly this seq (now, if applied already; once applied, if not yet). */
  | { type: 'replica.snapshotRequest'; replicaId: string; seq: number }
  /** Answer with `replica.copyResult` once the replica applied `atSeq`. */
  | { type: 'replica.copyRequest'; replicaId: string; requestId: string; atSeq: number }
  /** Answer with `replica.exportResult`: the document as a `format` file at exactly `atSeq`. */
  | { type: 'replica.exportRequest'; replicaId: string; requestId: string; atSeq: number; format: string }
  /**
   * Whether any viewer has a resumed consumer of this replica's stream. Sent on
   * every change; a new producer starts unwatched. Unwatched, a replica keeps
   * applying inputs but renders and encodes nothing (a warm standby).
   */
  | {
      type: 'replica.watched';
      replicaId: string;
      watched: boolean;
      /**
       * Some viewer has this stream's video resumed, not only its display channel open (tile display). Watched
       * without video, the replica renders for the display channel but converts and encodes no video. Absent: true.
       */
      video?: boolean;
    }
  /**
   * The tile display: `on`, some viewer opened this replica's display channel (send tiles, starting with a
   * whole frame now; sent again for each new viewer); off, none is left (send none).
   */
  | { type: 'replica.tiles'; replicaId: string; on: boolean }
  /**
   * The cluster leader directs this node to move home to `url` (rebalance). The
   * node moves only once that server, asked directly (GET /api/rehome), confirms
   * the same directive, and only to a URL already in its own server list.
   */
  | { type: 'node.rehome'; directiveId: string; serverId: string; url: string };

/** Nodes parse what the server pushes too: a node never trusts a socket either. */
export const NodeNotificationSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('replica.create'),
      assignment: z
        .object({
          replicaId: IdSchema,
          sessionId: IdSchema,
          app: AppRefSchema,
          width: z.number().int().min(LIMITS.minViewport).max(LIMITS.maxViewportWidth),
          height: z.number().int().min(LIMITS.minViewport).max(LIMITS.maxViewportHeight),
          headSeq: z.number().int().min(0),
          snapshot: z
            .object({ seq: z.number().int().min(0), stateHash: z.string().regex(/^[0-9a-f]{16,64}$/) })
            .strict()
            .nullable(),
        })
        .strict(),
      ticket: ReplicaTicketSchema.optional(),
    })
    .strict(),
  z.object({ type: z.literal('replica.close'), replicaId: IdSchema, reason: z.string().max(500) }).strict(),
  z
    .object({
      type: z.literal('inputs'),
      replicaId: IdSchema,
      inputs: z.array(SequencedInputSchema).max(LIMITS.maxFetchBatch),
    })
    .strict(),
  z.object({ type: z.literal('replica.statusRequest'), replicaId: IdSchema }).strict(),
  z.object({ type: z.literal('replica.snapshotRequest'), replicaId: IdSchema, seq: z.number().int().min(0) }).strict(),
  z
    .object({
      type: z.literal('replica.copyRequest'),
      replicaId: IdSchema,
      requestId: IdSchema,
      atSeq: z.number().int().min(0),
    })
    .strict(),
  z
    .object({
      type: z.literal('replica.exportRequest'),
      replicaId: IdSchema,
      requestId: IdSchema,
      atSeq: z.number().int().min(0),
      format: z.string().regex(/^[a-z0-9]{1,8}$/),
    })
    .strict(),
  z
    .object({
      type: z.literal('replica.watched'),
      replicaId: IdSchema,
      watched: z.boolean(),
      video: z.boolean().optional(),
    })
    .strict(),
  z.object({ type: z.literal('replica.tiles'), replicaId: IdSchema, on: z.boolean() }).strict(),
  z
    .object({
      type: z.literal('node.rehome'),
      directiveId: RehomeDirectiveIdSchema,
      serverId: IdSchema,
      url: z
        .string()
        .max(2048)
        .regex(/^https?:\/\//),
    })
    .strict(),
]);

/** GET /api/rehome: the target server's confirmation that etcd holds the leader's directive for the asking node. */
export const RehomeConfirmationSchema = z
  .object({ directiveId: RehomeDirectiveIdSchema, nodeId: IdSchema, serverId: IdSchema })
  .strict();
export type RehomeConfirmation = z.infer<typeof RehomeConfirmationSchema>;

// ---------------------------------------------------------------- socket.io event maps

export interface ViewerClientToServer {
  request: (msg: unknown, ack: (res: Result<unknown>) => void) => void;
}
export interface ViewerServerToClient {
  notify: (msg: ViewerNotification) => void;
}
export interface NodeClientToServer {
  request: (msg: unknown, ack: (res: Result<unknown>) => void) => void;
}
export interface NodeServerToClient {
  notify: (msg: NodeNotification) => void;
}

export type { AppRef, ReplicaInfo, SessionInfo, Result };
