// Selection geometry an app may report (AppDefinition.selectionGeometry) so
// touch viewers draw drag handles at the ends of its selection.
export type { CaretRect, SelectionGeometry } from '../../protocol/selection.js';
