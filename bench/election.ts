// Cluster leader re-election on a real 3-member etcd (25/250 ms raft timings)
// with three leader candidates as their own processes: how long from a fault
// until a server is leader again and its fenced write commits.
//   sigkill-leader   the leading process is SIGKILLed (its 1 s lease must expire)
//   sigstop-leader   the leading process is SIGSTOPped (it is resumed afterwards and must step down)
//   kill-etcd-leader the etcd Raft leader member is SIGKILLed (etcd re-elects; the server leader may keep its term)
// Usage: tsx bench/election.ts [rounds]; bench/run.ts --only election.
import { ElectionCandidates, type Candidate } from '../scripts/lib/election-candidates.js';
import { EtcdCluster } from '../server/log/etcd-cluster.js';
import { collector, isMain, load1m, percentile, round, type BenchResult } from './lib/report.js';

type Fault = 'sigkill-leader' | 'sigstop-leader' | 'kill-etcd-leader';

/** The first fenced write that commits after `since`, from whichever candidate leads (not `gone`, killed or paused). */
async function nextCommittedWrite(
  candidates: ElectionCandidates,
  since: number,
  n: { v: number },
  gone?: Candidate,
): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error('no leader could write within 30 s');
    const leader = candidates.leaders().find((c) => c !== gone);
    if (leader) {
      const ev = await candidates.write(leader, n.v++, 5000).catch(() => null);
      if (ev?.ok && ev.at >= since) return ev.at;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function runElection(
  onResult: (r: BenchResult) => void = () => {},
  options: { rounds?: number } = {},
): Promise<BenchResult[]> {
  const rounds = options.rounds ?? 5;
  const { add, results } = collector(onResult);
  const cluster = await EtcdCluster.create({ members: 3 });
  const candidates = new ElectionCandidates(cluster.clientUrls, 'bench-election/');
  const n = { v: 0 };
  let started = 0;
  const startOne = (): Promise<Candidate> => candidates.start(`server-${started++}`);
  try {
    for (let i = 0; i < 3; i++) await startOne();
    await nextCommittedWrite(candidates, 0, n);
    const measured: Record<Fault, number[]> = { 'sigkill-leader': [], 'sigstop-leader': [], 'kill-etcd-leader': [] };
    for (let r = 0; r < rounds; r++) {
      for (const fault of Object.keys(measured) as Fault[]) {
        await nextCommittedWrite(candidates, 0, n); // a settled leader before each fault
        const old = candidates.leaders()[0] as Candidate;
        const t0 = Date.now();
        if (fault === 'sigkill-leader') {
          old.child.kill('SIGKILL');
          measured[fault].push((await nextCommittedWrite(candidates, t0, n, old)) - t0);
          await old.exited;
          await startOne();
        } else if (fault === 'sigstop-leader') {
          old.child.kill('SIGSTOP');
          measured[fault].push((await nextCommittedWrite(candidates, t0, n, old)) - t0);
          old.child.kill('SIGCONT');
          const refused = await candidates.write(old, n.v++, 5000);
          if (refused.ok) throw new Error('a resumed old leader wrote after hand-over: fencing failed');
        } else {
          const member = await cluster.waitLeader();
          await cluster.kill(member);
          measured[fault].push((await nextCommittedWrite(candidates, t0, n)) - t0);
          await cluster.restart(member);
        }
      }
    }
    for (const [fault, ms] of Object.entries(measured)) {
      const detail = { rounds: ms.length, max: round(Math.max(...ms)), load1m: load1m() };
      add({ name: `election.${fault}.p50`, value: round(percentile(ms, 50)), unit: 'ms', detail });
      add({ name: `election.${fault}.max`, value: round(Math.max(...ms)), unit: 'ms', detail });
    }
  } finally {
    await candidates.close();
    await cluster.close();
  }
  return results;
}

if (isMain(import.meta.url)) {
  await runElection((r) => process.stdout.write(`${JSON.stringify(r)}\n`), { rounds: Number(process.argv[2] ?? 5) });
}
