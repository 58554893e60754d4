// What servers share about the cluster's renderer nodes and replica placement
// in etcd (node directory, placement table). Written by other servers; a
// party with etcd access but without the cluster secret may have written it
// too, so every value is parsed here and its MAC checked before use.
import { z } from 'zod';
import { AppPolicySchema, BundleHashSchema } from './bundle.js';
import { LIMITS } from './limits.js';
import { AppFailureReasonSchema, AppFailureSchema } from './replica-failure.js';
import { AppRefSchema, REPLICA_STATES } from './session.js';

const IdSchema = z.string().min(1).max(LIMITS.maxIdLength);

/** A stored entry: the payload as JSON text and its HMAC under the cluster secret. */
export const SignedEntrySchema = z.object({ payload: z.string().max(65_536), mac: z.string().max(256) }).strict();

/** One renderer node as its home server publishes it: what placement needs to know of it. */
export const ClusterNodeInfoSchema = z
  .object({
    nodeId: IdSchema,
    /** The physical machine (nodes sharing one share its fate). */
    hostId: IdSchema,
    /** The host join token's admission: one replica of a session per admission. */
    admissionId: IdSchema,
    /** The server the node is connected to and produces into. */
    homeServerId: IdSchema,
    cores: z.number().int().min(1).max(4096),
    maxReplicas: z.number().int().nonnegative().max(4096),
    replicaCount: z.number().int().nonnegative().max(4096),
    /** CPU load 0..1. */
    load: z.number().min(0).max(1),
    state: z.enum(['up', 'leaving', 'down']),
    warmApps: z.array(z.string().max(LIMITS.maxIdLength)).max(256),
    apps: z.array(AppRefSchema).max(256),
    appPolicy: AppPolicySchema,
    warmBundles: z.array(BundleHashSchema).max(1024),
    refusedBundles: z.array(BundleHashSchema).max(1024),
  })
  .strict();
export type ClusterNodeInfo = z.infer<typeof ClusterNodeInfoSchema>;

export const ReplicaModeSchema = z.enum(['warm', 'hot']);
export type ReplicaMode = z.infer<typeof ReplicaModeSchema>;

export const PlacedReplicaSchema = z
  .object({
    replicaId: IdSchema,
    nodeId: IdSchema,
    homeServerId: IdSchema,
    mode: ReplicaModeSchema,
    /**
     * Since when (the writing leader's clock, ms) the node has been missing from
     * the directory: kept in the table so a new leader continues the hold
     * window instead of restarting it. Absent while the node is listed.
     */
    missingSince: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict();
export type PlacedReplica = z.infer<typeof PlacedReplicaSchema>;

/** One host's typed app failure at one input, as the leader counted it (host from its own view, not a report). */
export const AppFailureVoteSchema = z
  .object({
    hostId: IdSchema,
    /**
     * The home server that relayed it (the leader's table homes the replica there). Votes written before
     * it was kept have none: they count for their host, for no server.
     */
    serverId: IdSchema.optional(),
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    reason: AppFailureReasonSchema,
    message: z.string().max(300),
  })
  .strict();
export type AppFailureVote = z.infer<typeof AppFailureVoteSchema>;

/** One session's placement, as the leader wrote it. */
export const SessionPlacementSchema = z
  .object({
    sessionId: IdSchema,
    replicas: z.array(PlacedReplicaSchema).max(64),
    /** The ordinal the leader gives the next replica it places (`<sessionId>.r<n>`): ids are never reused. */
    nextOrdinal: z.number().int().min(1).max(999_999_999).optional(),
    /** Hosts the cluster-wide hash vote (or a home server) found diverging in this session: never placed on again. */
    quarantinedHosts: z.array(IdSchema).max(256).optional(),
    /** App failures the leader counted (each on a replica its table placed, on the host its directory names). */
    appFailureVotes: z.array(AppFailureVoteSchema).max(64).optional(),
    /**
     * Replicas on a quorum of distinct hosts failed at this input: the session's
     * failed state, which every server enforces (no replica placed, inputs refused).
     */
    appFailure: AppFailureSchema.optional(),
    /** The leader's term (fencing token) it was written under. */
    term: z.string().regex(/^\d{1,20}$/),
    writtenAt: z.number().int().nonnegative(),
  })
  .strict();
export type SessionPlacement = z.infer<typeof SessionPlacementSchema>;

/** Why a home server gave up a replica the table names (the leader re-places it elsewhere). */
export const ReplicaFailureCauseSchema = z.enum(['unresponsive', 'refused', 'diverged']);
export type ReplicaFailureCause = z.infer<typeof ReplicaFailureCauseSchema>;

/**
 * What one home server reports of one session's replicas on its nodes, under
 * its lease (gone with it): the leader's view of failures it cannot see.
 */
export const SessionHealthReportSchema = z
  .object({
    serverId: IdSchema,
    sessionId: IdSchema,
    replicas: z
      .array(
        z
          .object({
            replicaId: IdSchema,
            nodeId: IdSchema,
            state: z.enum(REPLICA_STATES),
            appliedSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
            stateHash: z.string().max(128).nullable(),
            /** A viewer watches its stream at this server's SFU (the leader drops an unwatched one first). */
            watched: z.boolean().optional(),
          })
          .strict(),
      )
      .max(64),
    /** Replicas the table names here that this server gave up: not run again until the table drops them. */
    failed: z
      .array(
        z
          .object({ replicaId: IdSchema, nodeId: IdSchema, hostId: IdSchema, cause: ReplicaFailureCauseSchema })
          .strict(),
      )
      .max(64),
    /** Hosts whose replica of this session diverged from the majority here. */
    quarantinedHosts: z.array(IdSchema).max(64),
    /**
     * Typed app failures of replicas homed here (node → this server, latest
     * first-seen kept): the leader counts hosts cluster-wide from its own table
     * and directory (this hostId is the server's word and is not used).
     */
    appFailures: z
      .array(
        z
          .object({
            replicaId: IdSchema,
            nodeId: IdSchema,
            hostId: IdSchema,
            seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
            reason: AppFailureReasonSchema,
            message: z.string().max(300),
          })
          .strict(),
      )
      .max(64)
      .optional(),
  })
  .strict();
export type SessionHealthReport = z.infer<typeof SessionHealthReportSchema>;
export type ReportedAppFailure = NonNullable<SessionHealthReport['appFailures']>[number];

const StateHashSchema = z.string().regex(/^[0-9a-f]{32}$/);

/** The leader's cluster-wide snapshot checkpoint of one session: every home server asks its replicas at `seq`. */
export const CheckpointRequestSchema = z
  .object({
    sessionId: IdSchema,
    seq: z.number().int().min(1),
    requestedAt: z.number().int().nonnegative(),
    /** The leader's term (fencing token) it was written under. */
    term: z.string().regex(/^\d{1,20}$/),
  })
  .strict();
export type CheckpointRequest = z.infer<typeof CheckpointRequestSchema>;

/**
 * One home server's relay of its replicas' answers to a checkpoint. The bytes
 * are stored apart, content-addressed by the claimed hash, in chunks: the
 * leader re-hashes them and counts hosts from its own table, not from here.
 */
export const CheckpointReportSchema = z
  .object({
    serverId: IdSchema,
    sessionId: IdSchema,
    seq: z.number().int().min(1),
    answers: z
      .array(
        z
          .object({
            replicaId: IdSchema,
            stateHash: StateHashSchema,
            bytes: z.number().int().nonnegative(),
            chunks: z.number().int().min(1).max(4096),
          })
          .strict(),
      )
      .max(64),
  })
  .strict();
export type CheckpointReport = z.infer<typeof CheckpointReportSchema>;

/**
 * One stored chunk of a relayed checkpoint answer: its bytes (base64) and an
 * HMAC under the cluster secret over session, seq, chunk index and count,
 * state hash, the answer's byte length and these bytes.
 */
export const CheckpointChunkSchema = z
  .object({
    /** 512 KiB of raw bytes by default: ~700 KB as base64, under etcd's 1.5 MiB request bound. */
    data: z.string().max(1_000_000),
    mac: z.string().max(256),
  })
  .strict();
export type CheckpointChunk = z.infer<typeof CheckpointChunkSchema>;

/** A snapshot the leader confirmed cluster-wide (the bytes are in the log's snapshot store). */
export const ConfirmedSnapshotSchema = z
  .object({
    sessionId: IdSchema,
    seq: z.number().int().min(1),
    stateHash: StateHashSchema,
    /** Hosts whose replicas agreed. */
    hosts: z.array(IdSchema).min(2).max(64),
    /** The confirmed snapshot before this one: the log is truncated through it (it stays as the fallback). */
    previousSeq: z.number().int().min(1).nullable(),
    term: z.string().regex(/^\d{1,20}$/),
    confirmedAt: z.number().int().nonnegative(),
  })
  .strict();
export type ConfirmedSnapshot = z.infer<typeof ConfirmedSnapshotSchema>;

/**
 * The leader's word to one renderer node to move home (rebalance): written
 * fenced and sealed under `cluster/rehome/<node>`. The node's home server
 * relays it; the node moves only once the target server, asked directly,
 * confirms the same directive from etcd, so no single server's word moves it.
 */
export const RehomeDirectiveIdSchema = z.string().regex(/^rh-[0-9a-f]{16}$/);

export const RehomeDirectiveSchema = z
  .object({
    /** Unique per directive: the node and the target must name the same one. */
    directiveId: RehomeDirectiveIdSchema,
    nodeId: IdSchema,
    fromServerId: IdSchema,
    toServerId: IdSchema,
    /** The target's advertised URL (from the registry); the node also needs it in its own server list. */
    toUrl: z
      .string()
      .max(2048)
      .url()
      .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL'),
    issuedAt: z.number().int().nonnegative(),
    /** After this the directive is void (the leader deletes it and may try another node). */
    expiresAt: z.number().int().nonnegative(),
    term: z.string().regex(/^\d{1,20}$/),
  })
  .strict();
export type RehomeDirective = z.infer<typeof RehomeDirectiveSchema>;
