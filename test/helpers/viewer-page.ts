// The browser viewer's state, read the way the demos read it (scripts/lib/viewer-page.ts).
export {
  observeFailover,
  openViewer,
  viewerPageState,
  type FailoverObservation,
  type ViewerPageState,
} from '../../scripts/lib/viewer-page.js';
