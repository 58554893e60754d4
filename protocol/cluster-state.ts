// What servers share about the cluster's renderer nodes and replica placement
// in etcd (node directory, placement table). Written by other servers; a
// party with etcd access but without the cluster secret may have written it
// too, so every value is parsed here and its MAC checked before use.
import { z } from 'zod';
import { AppPolicySchema, BundleHashSchema } from './bundle.js';
import { LIMITS } from './limits.js';
import { AppRefSchema } from './session.js';

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
  })
  .strict();
export type PlacedReplica = z.infer<typeof PlacedReplicaSchema>;

/** One session's placement, as the leader wrote it. */
export const SessionPlacementSchema = z
  .object({
    sessionId: IdSchema,
    replicas: z.array(PlacedReplicaSchema).max(64),
    /** The leader's term (fencing token) it was written under. */
    term: z.string().regex(/^\d{1,20}$/),
    writtenAt: z.number().int().nonnegative(),
  })
  .strict();
export type SessionPlacement = z.infer<typeof SessionPlacementSchema>;
