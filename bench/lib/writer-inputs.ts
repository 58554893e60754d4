// Deterministic input streams for the writer: a full page of pasted prose and
// typed key presses, as the sequencer would log them.
import { NO_MODS, type InputEvent, type SequencedInput } from '../../protocol/input.js';

const PROSE =
  'Lockstep keeps a session alive when the machine running it dies: every input is sequenced, ' +
  'made durable, and applied by several replicas that render the same pixels. ' +
  'The quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. ' +
  'Sphinx of black quartz, judge my vow. How vexingly quick daft zebras jump! ';

/** About `chars` characters of prose in paragraphs of ~4 sentences. */
export function proseText(chars: number): string {
  let out = '';
  let para = 0;
  while (out.length < chars) {
    out += PROSE;
    if (++para % 2 === 0) out += '\n\n';
  }
  return out.slice(0, chars);
}

const TYPED = 'the quick brown fox jumps over the lazy dog ';

/** The i-th typed character (a key down with text). */
export function keyEvent(i: number): InputEvent {
  const ch = TYPED[i % TYPED.length] ?? ' ';
  return { type: 'key', action: 'down', key: ch, code: '', text: ch, mods: NO_MODS };
}

export function sequenced(seq: number, event: InputEvent, clientSeq = seq - 1): SequencedInput {
  return { seq, time: 1_700_000_000_000 + seq, clientId: 'bench', clientSeq, event };
}

/**
 * Inputs that fill more than a page at any size up to 1280x720: pastes of
 * prose (within the paste limit) followed by `typed` key presses.
 */
export function fullPageInputs(typed = 50, chars = 12_000): SequencedInput[] {
  const inputs: SequencedInput[] = [];
  const text = proseText(chars);
  for (let i = 0; i < text.length; i += 4000)
    inputs.push(sequenced(inputs.length + 1, { type: 'paste', text: text.slice(i, i + 4000) }));
  for (let i = 0; i < typed; i++) inputs.push(sequenced(inputs.length + 1, keyEvent(i)));
  return inputs;
}
