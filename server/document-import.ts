// Bring your work in: a file becomes `import` inputs of a new session, cut
// within the log's per-input bound (text at character boundaries, CSV at
// record ends), so it enters the log like any other input and every replica
// applies the same parts in the same order. Pure; bad files get typed errors
// before anything is created or logged. Images: image-import.ts.
import { LIMITS } from '../protocol/limits.js';
import type { ImportInput, TextImportFormat } from '../protocol/input.js';
import { CsvError, parseCsv, toCsvText } from '../render/sdk/csv.js';
import { BadRequestError, TooLargeError } from './errors.js';

function text(bytes: Uint8Array, format: string): string {
  try {
    // Strict: a file that is not UTF-8 is refused, not imported as replacement characters.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new BadRequestError(`the .${format} file is not UTF-8 text`, { format });
  }
}

/** Text in parts of at most maxPasteChars UTF-16 units, never splitting a surrogate pair. */
export function textParts(s: string, max = LIMITS.maxPasteChars): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < s.length) {
    let end = Math.min(s.length, i + max);
    const last = s.charCodeAt(end - 1);
    if (end < s.length && last >= 0xd800 && last <= 0xdbff) end--;
    parts.push(s.slice(i, end));
    i = end;
  }
  return parts;
}

/** Whole CSV records, as few parts as fit the bound; each part says the grid row it starts at. */
function csvParts(s: string, max: number): ImportInput[] {
  let records: string[][];
  try {
    records = parseCsv(s);
  } catch (err) {
    if (err instanceof CsvError) throw new BadRequestError(`the .csv file is not valid CSV: ${err.message}`, {});
    throw err;
  }
  const parts: ImportInput[] = [];
  let start = 0;
  let chunk = '';
  records.forEach((record, r) => {
    const line = toCsvText([record]);
    if (line.length > max) throw new TooLargeError(`CSV record ${r + 1} is longer than ${max} characters`, {});
    if (chunk.length + line.length > max) {
      parts.push({ type: 'import', format: 'csv', row: start, data: chunk });
      start = r;
      chunk = '';
    }
    chunk += line;
  });
  if (chunk !== '') parts.push({ type: 'import', format: 'csv', row: start, data: chunk });
  return parts;
}

/** The inputs that bring `bytes` of `format` into a session (an empty file gives none). */
export function importInputs(format: TextImportFormat, bytes: Uint8Array, max = LIMITS.maxPasteChars): ImportInput[] {
  if (bytes.length > LIMITS.maxImportBytes) {
    throw new TooLargeError(`the file is ${bytes.length} bytes; imports are limited to ${LIMITS.maxImportBytes}`, {
      size: bytes.length,
    });
  }
  const s = text(bytes, format);
  switch (format) {
    case 'txt':
    case 'md':
      return textParts(s, max).map((data) => ({ type: 'import', format, row: 0, data }));
    case 'csv':
      return csvParts(s, max);
    default: {
      const never: never = format;
      throw new BadRequestError(`cannot import ${String(never)}`, {});
    }
  }
}
