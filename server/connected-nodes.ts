// The connected renderer nodes as the rest of the server sees them: the
// session core's record of each (read-only) joined with the port that reaches
// it. A view, not a registry: nodes join and leave through the session manager.
import type { ConnectedNode, NodePort } from './node-port.js';
import type { NodeRegistry } from './session-core/node-registry.js';
import type { NodeView } from './session-core/placement-types.js';

export class ConnectedNodes {
  readonly #records: NodeRegistry;
  readonly #ports: ReadonlyMap<string, NodePort>;

  constructor(records: NodeRegistry, ports: ReadonlyMap<string, NodePort>) {
    this.#records = records;
    this.#ports = ports;
  }

  get(nodeId: string): ConnectedNode | undefined {
    const record = this.#records.get(nodeId);
    const port = this.#ports.get(nodeId);
    return record && port ? { ...record, notify: port.notify, disconnect: port.disconnect } : undefined;
  }

  all(): ConnectedNode[] {
    return this.#records.all().flatMap((r) => this.get(r.nodeId) ?? []);
  }

  /** What placement (and the cluster's node directory) sees of each connected node. */
  views(): NodeView[] {
    return this.#records.views().filter((v) => this.#ports.has(v.nodeId));
  }

  get size(): number {
    return this.#records.size;
  }
}
