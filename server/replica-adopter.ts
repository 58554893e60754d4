// Applies the adoption rule (replica-adoption.ts) to the live session and node
// records: an adopted replica gets the record a freshly placed one would, with
// its own id kept, and is marked `adopted` so it goes live only once vouched.
// Kept out of session-manager.ts so the manager needs only a one-line hook.
import { getLogger } from '../protocol/logger.js';
import type { AdoptedReplica, HeldReplica } from '../protocol/signalling.js';
import type { RegisteredNode } from './node-registry.js';
import type { NodeView } from './placement-types.js';
import { planAdoption, replicaOrdinal, type AdoptionSessionView } from './replica-adoption.js';
import type { ReplicaRecord, Session } from './session.js';

const log = getLogger('replica-adopter');

function viewOf(s: Session): AdoptionSessionView {
  return {
    sessionId: s.id,
    open: !s.closed,
    app: s.meta.app,
    replicationFactor: s.meta.replicationFactor,
    headSeq: s.headSeq,
    active: s.activeReplicas().map((r) => ({ replicaId: r.replicaId, hostId: r.hostId, admissionId: r.admissionId })),
    quarantinedHosts: [...s.quarantinedHosts],
  };
}

/** Takes over what may be taken over of `held`; returns what was, with each session's head. */
export function adoptHeldReplicas(
  sessions: ReadonlyMap<string, Session>,
  node: RegisteredNode,
  view: NodeView,
  held: readonly HeldReplica[],
  now: number,
): AdoptedReplica[] {
  for (const claim of held) {
    // Fresh replica ids must never collide with one still running somewhere, adopted or not.
    const n = replicaOrdinal(claim.sessionId, claim.replicaId);
    if (n !== null) sessions.get(claim.sessionId)?.noteReplicaOrdinal(n);
  }
  const plan = planAdoption(view, held, (id) => {
    const s = sessions.get(id);
    return s && viewOf(s);
  });
  for (const { claim, reason } of plan.refuse) {
    log.info(
      { nodeId: node.nodeId, replicaId: claim.replicaId, sessionId: claim.sessionId, reason },
      'held replica not adopted',
    );
  }
  const adopted: AdoptedReplica[] = [];
  for (const claim of plan.adopt) {
    const session = sessions.get(claim.sessionId);
    if (!session) continue;
    const record: ReplicaRecord = {
      replicaId: claim.replicaId,
      nodeId: node.nodeId,
      hostId: node.hostId,
      admissionId: node.admissionId,
      state: 'starting',
      catchUpTo: session.headSeq,
      appliedSeq: claim.appliedSeq,
      stateHash: claim.stateHash,
      // It restored nothing the server gave it: a divergence is its host's fault (quarantine), not a snapshot's.
      restoredFrom: null,
      transport: null,
      producer: null,
      createdAt: now,
      adopted: true,
    };
    session.replicas.set(claim.replicaId, record);
    // The claim is a status report like any other (applied seq + hash, the node's word): replicas
    // held through one server death all stand at the same seq, so they can vouch for each other at once.
    session.health.onStatus(
      claim.replicaId,
      { appliedSeq: claim.appliedSeq, stateHash: claim.stateHash, framesSent: 0, videoIdle: true },
      now,
    );
    node.replicas.set(claim.replicaId, session.id);
    adopted.push({ replicaId: claim.replicaId, headSeq: session.headSeq });
    log.info(
      {
        sessionId: session.id,
        replicaId: claim.replicaId,
        nodeId: node.nodeId,
        hostId: node.hostId,
        appliedSeq: claim.appliedSeq,
      },
      'replica adopted',
    );
  }
  return adopted;
}
