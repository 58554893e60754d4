// One leader for cluster-wide jobs. Each server campaigns by creating the
// leader key under its own lease only if the key does not exist (a create
// revision compare); the winner's fencing token is the key's create revision,
// which FencedWriter compares inside every transaction. The leader renews its
// lease itself (keepaliveOnce on a timer, so it knows each renewal's send
// time) and steps down on its own when its LeaderTerm runs out, long before
// the etcd3 client would report the lease lost. Stepping down revokes the
// lease, so a follower takes over without waiting for the TTL.
import { EtcdLeaseInvalidError, type Etcd3, type Lease, type Watcher } from 'etcd3';
import { getLogger } from '../../protocol/logger.js';
import { TypedEmitter } from '../../protocol/typed-emitter.js';
import { etcdCall } from './etcd-client.js';
import type { LeaderElectionEvents, LeaderElectionOptions, StepDownReason } from './leader-election-types.js';
import { LeaderTerm, type TermVerdict } from './leader-term.js';

const log = getLogger('leader-election');

export class LeaderElection extends TypedEmitter<LeaderElectionEvents> {
  readonly serverId: string;
  readonly leaderKey: string;
  readonly #client: Etcd3;
  readonly #ttlSeconds: number;
  readonly #renewEveryMs: number;
  readonly #retryEveryMs: number;
  readonly #keepaliveTimeoutMs: number;
  readonly #now: () => number;
  readonly #term: LeaderTerm;
  #lease: { lease: Lease; id: string; renewSentAt: number } | null = null;
  #watcher: Watcher | null = null;
  #leaderId: string | null = null;
  readonly #timers: Record<'campaign' | 'renew' | 'term', NodeJS.Timeout | null> = {
    campaign: null,
    renew: null,
    term: null,
  };
  #campaigning: Promise<void> | null = null;
  /** After stepping down, no campaign before this time (a follower gets the freed key). */
  #holdOffUntil = 0;
  #closed = false;

  private constructor(options: LeaderElectionOptions) {
    super();
    this.serverId = options.serverId;
    this.leaderKey = `${options.namespace}cluster/leader`;
    this.#client = options.client;
    this.#ttlSeconds = options.ttlSeconds ?? 1;
    this.#renewEveryMs = options.renewEveryMs ?? 200;
    this.#retryEveryMs = options.retryEveryMs ?? 250;
    this.#keepaliveTimeoutMs = options.keepaliveTimeoutMs ?? 400;
    this.#now = options.now ?? Date.now;
    this.#term = new LeaderTerm({ ttlMs: this.#ttlSeconds * 1000, safetyMs: options.safetyMs ?? 150, now: this.#now });
  }

  /** Starts campaigning at once (and keeps doing so while not the leader). */
  static async create(options: LeaderElectionOptions): Promise<LeaderElection> {
    const election = new LeaderElection(options);
    await election.#watch();
    election.#scheduleCampaign(0);
    return election;
  }

  /** Whether this server may act as the leader right now (its local term is live). */
  get isLeader(): boolean {
    return this.#term.verdict().leader;
  }

  /** The leader key's current holder as last seen (null: none). */
  get leaderId(): string | null {
    return this.#leaderId;
  }

  verdict(): TermVerdict {
    const v = this.#term.verdict();
    // A term that ran out between timer ticks ends now, not at the next tick.
    if (!v.leader && v.reason === 'expired') this.stepDown('expired');
    return v;
  }

  /** Gives up leadership (revoking the lease frees the key at once); campaigning resumes after a pause. */
  stepDown(reason: StepDownReason): void {
    const wasLeader = this.#term.deadline !== null;
    this.#term.stepDown();
    this.#clearTimer('term');
    this.#clearTimer('renew');
    const held = this.#lease;
    this.#lease = null;
    if (held) {
      held.lease.revoke().catch((err: unknown) => log.debug({ err }, 'lease revoke failed (it expires by itself)'));
    }
    if (wasLeader) {
      log.warn({ serverId: this.serverId, reason }, 'stepped down as cluster leader');
      this.emit('steppedDown', { reason, at: this.#now() });
    }
    // Let a follower take the freed key before campaigning again.
    this.#holdOffUntil = this.#now() + this.#retryEveryMs;
    if (!this.#closed) this.#scheduleCampaign(this.#retryEveryMs);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer('campaign');
    const held = this.#lease;
    this.stepDown('closed');
    await this.#campaigning;
    if (held) await held.lease.revoke().catch(() => undefined);
    await this.#watcher?.cancel().catch(() => undefined);
  }

  async #watch(): Promise<void> {
    const watcher = await etcdCall('watch leader', () => this.#client.watch().key(this.leaderKey).create());
    watcher.on('put', (kv) => this.#setLeader(kv.value.toString()));
    watcher.on('delete', () => {
      this.#setLeader(null);
      this.#scheduleCampaign(0);
    });
    watcher.on('error', (err) => log.debug({ err }, 'leader watch error (it reconnects)'));
    this.#watcher = watcher;
  }

  #setLeader(id: string | null): void {
    if (id === this.#leaderId) return;
    this.#leaderId = id;
    this.emit('leader', { leaderId: id });
  }

  #scheduleCampaign(delayMs: number): void {
    if (this.#closed) return;
    delayMs = Math.max(delayMs, this.#holdOffUntil - this.#now());
    this.#clearTimer('campaign');
    this.#timers.campaign = setTimeout(() => {
      this.#timers.campaign = null;
      if (this.#campaigning) return this.#scheduleCampaign(this.#retryEveryMs);
      this.#campaigning = this.#campaign()
        .catch((err: unknown) => log.debug({ err }, 'campaign round failed'))
        .finally(() => {
          this.#campaigning = null;
          if (!this.#term.verdict().leader) this.#scheduleCampaign(this.#retryEveryMs);
        });
    }, delayMs);
  }

  async #campaign(): Promise<void> {
    if (this.#closed || this.#term.verdict().leader) return;
    // A plain read first: a follower polling a live leader writes nothing.
    const current = await etcdCall('read leader', () => this.#client.get(this.leaderKey).exec());
    const kv = current.kvs[0];
    if (kv && !(kv.value.toString() === this.serverId && kv.lease === this.#lease?.id)) {
      this.#setLeader(kv.value.toString());
      return;
    }
    await this.#freshLease();
    const held = this.#lease;
    if (!held) return;
    const res = await etcdCall('campaign', () =>
      this.#client
        .if(this.leaderKey, 'Create', '==', 0)
        .then(this.#client.put(this.leaderKey).value(this.serverId).lease(held.id))
        .else(this.#client.get(this.leaderKey))
        .commit(),
    );
    if (this.#closed || this.#lease !== held) return;
    let revision: string | null = null;
    if (res.succeeded) {
      revision = res.header.revision;
    } else {
      const other = res.responses[0]?.response_range?.kvs[0];
      this.#setLeader(other ? other.value.toString() : null);
      // Our own key (a campaign whose reply was lost): adopt it.
      if (other && other.value.toString() === this.serverId && other.lease === held.id) {
        revision = other.create_revision;
      }
    }
    // Not elected: the lease is kept (renewed before the next try) so campaigns do not grant a lease each.
    if (revision === null) return;
    this.#term.begin(revision, held.renewSentAt);
    if (!this.#term.verdict().leader) {
      // The grant is already older than a term: start over with a fresh lease.
      this.stepDown('expired');
      return;
    }
    this.#setLeader(this.serverId);
    log.info({ serverId: this.serverId, revision }, 'elected cluster leader');
    this.#armTermTimer();
    this.#scheduleRenew();
    this.emit('elected', { revision, at: this.#now() });
  }

  /** Makes sure a lease is held whose last renewal is recent: keepalive it, or grant a new one. */
  async #freshLease(): Promise<void> {
    const held = this.#lease;
    if (held) {
      const sentAt = this.#now();
      try {
        await held.lease.keepaliveOnce({ deadline: Date.now() + this.#keepaliveTimeoutMs });
        held.renewSentAt = sentAt;
        return;
      } catch (err) {
        if (!(err instanceof EtcdLeaseInvalidError)) throw err;
        held.lease.release();
        if (this.#lease === held) this.#lease = null;
      }
    }
    const lease = this.#client.lease(this.#ttlSeconds, { autoKeepAlive: false });
    const sentAt = this.#now();
    try {
      const id = await etcdCall('lease grant', () => lease.grant());
      this.#lease = { lease, id, renewSentAt: sentAt };
    } catch (err) {
      lease.release();
      throw err;
    }
  }

  #scheduleRenew(): void {
    this.#clearTimer('renew');
    this.#timers.renew = setTimeout(() => {
      this.#timers.renew = null;
      void this.#renew();
    }, this.#renewEveryMs);
  }

  async #renew(): Promise<void> {
    const held = this.#lease;
    if (!held || !this.#term.verdict().leader) return;
    const sentAt = this.#now();
    try {
      await held.lease.keepaliveOnce({ deadline: Date.now() + this.#keepaliveTimeoutMs });
      if (this.#lease !== held) return;
      held.renewSentAt = sentAt;
      this.#term.renewed(sentAt);
      this.#armTermTimer();
    } catch (err) {
      if (this.#lease !== held) return;
      // EtcdLeaseInvalidError: etcd already expired it. Anything else: try again; the term timer decides.
      if (err instanceof EtcdLeaseInvalidError) return this.stepDown('lease-lost');
      log.debug({ err }, 'keepalive failed');
    }
    if (this.#lease === held) this.#scheduleRenew();
  }

  #armTermTimer(): void {
    this.#clearTimer('term');
    const deadline = this.#term.deadline;
    if (deadline === null) return;
    this.#timers.term = setTimeout(
      () => {
        this.#timers.term = null;
        if (!this.#term.verdict().leader) this.stepDown('expired');
        else this.#armTermTimer();
      },
      Math.max(0, deadline - this.#now()),
    );
  }

  #clearTimer(which: 'campaign' | 'renew' | 'term'): void {
    const t = this.#timers[which];
    if (t) clearTimeout(t);
    this.#timers[which] = null;
  }
}
