// The tests start the product the way its own commands do: through the
// product's launcher (scripts/lib/launcher.ts).
export {
  removeDir,
  ROOT,
  startNode,
  startNodeCommand,
  startServer,
  stopAll,
  type Proc,
  type ServerProc,
} from '../../scripts/lib/launcher.js';
