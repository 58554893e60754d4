// The writer's state digest (AppDefinition.stateDigest): a two-level hash tree
// over the text's paragraphs plus every other field of the state, so a status
// after a key press re-hashes one paragraph, its group of paragraphs and the
// short list of group digests, never the whole document. It is a function of
// the state alone (paragraphs and groups follow from the text), so a replica
// restored from a snapshot and one that replayed the log agree on it.
//
//   paragraph digest = sha256(utf8(paragraph text))
//   group digest     = sha256(paragraph digests of PARAGRAPHS_PER_GROUP consecutive paragraphs)
//   state digest     = sha256("lockstep.writer.digest.v1\n" ‖ utf8(JSON of the other fields and the
//                      paragraph count) ‖ "\n" ‖ group digests in order)
import { encodeUtf8, sha256 } from '../../sdk/index.js';
import { textIndexOf, type WriterState } from './state.js';

const DOMAIN = encodeUtf8('lockstep.writer.digest.v1\n');
const SEPARATOR = encodeUtf8('\n');

const paragraphDigest = (text: string): Uint8Array => sha256(encodeUtf8(text));

export function writerDigest(state: WriterState): Uint8Array {
  const index = textIndexOf(state);
  const header = [
    state.width,
    state.height,
    state.caret,
    state.anchor,
    state.goalX,
    state.scrollY,
    state.drag,
    state.dragFrom,
    state.dragTo,
    index.paragraphCount,
  ];
  const groups: Uint8Array[] = [];
  for (let g = 0; g < index.groupCount; g++) {
    groups.push(
      index.groupDigest(g, (first, end) => {
        const parts: Uint8Array[] = [];
        for (let k = first; k < end; k++) parts.push(index.paragraphDigest(k, paragraphDigest));
        return sha256(...parts);
      }),
    );
  }
  return sha256(DOMAIN, encodeUtf8(JSON.stringify(header)), SEPARATOR, ...groups);
}
