// File formats an app's document can be exported to, with their media types
// (the manifest's `exports`, REST export and the viewer's Download use these).
export const EXPORT_FORMATS = {
  txt: 'text/plain; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  png: 'image/png',
} as const;
export type ExportFormat = keyof typeof EXPORT_FORMATS;
