// The sealed entries of the cluster-wide checkpoint (layout in checkpoint-keys.ts):
// the leader's request and confirmed record, a home server's report. Each one
// opens only under the key its value names.
import {
  CheckpointReportSchema,
  CheckpointRequestSchema,
  ConfirmedSnapshotSchema,
  type CheckpointReport,
  type CheckpointRequest,
  type ConfirmedSnapshot,
} from '../../protocol/cluster-state.js';
import type { Logger } from '../../protocol/logger.js';
import { checkpointKeys, PURPOSE } from './checkpoint-keys.js';
import type { ClusterSecret } from './cluster-secret.js';
import { SignedEntry } from './signed-entry.js';

export interface CheckpointEntries {
  request: SignedEntry<CheckpointRequest>;
  report: SignedEntry<CheckpointReport>;
  confirmed: SignedEntry<ConfirmedSnapshot>;
}

export function checkpointEntries(secret: ClusterSecret, ns: string, log: Logger): CheckpointEntries {
  return {
    request: new SignedEntry({
      secret,
      purpose: PURPOSE.request,
      schema: CheckpointRequestSchema,
      log,
      keyOf: (r) => checkpointKeys.request(ns, r.sessionId),
    }),
    report: new SignedEntry({
      secret,
      purpose: PURPOSE.report,
      schema: CheckpointReportSchema,
      log,
      keyOf: (r) => checkpointKeys.report(ns, r.serverId, r.sessionId),
    }),
    confirmed: new SignedEntry({
      secret,
      purpose: PURPOSE.confirmed,
      schema: ConfirmedSnapshotSchema,
      log,
      keyOf: (c) => checkpointKeys.confirmed(ns, c.sessionId),
    }),
  };
}
