// An InputSender on a fake clock for the viewer's unit tests: the clientSeq
// counter kept in memory, timers and time from `clock`, every ack collected,
// and joined (resync from 0) so it sends at once.
import { InputSender, type InputAckedEvent, type InputSenderDeps } from '../../viewer/input-sender.js';
import type { FakeTimers } from './fake-timers.js';

export function clockedSender(
  clock: FakeTimers,
  deps: Omit<InputSenderDeps, 'sessionId' | 'loadSeq' | 'saveSeq' | 'now' | 'schedule'>,
): { sender: InputSender; acked: InputAckedEvent[] } {
  let saved = 0;
  const sender = new InputSender({
    sessionId: 's1',
    loadSeq: () => saved,
    saveSeq: (s) => (saved = s),
    now: () => clock.now,
    schedule: clock.schedule,
    ...deps,
  });
  const acked: InputAckedEvent[] = [];
  sender.on('acked', (a) => acked.push(a));
  sender.resync(0);
  return { sender, acked };
}
