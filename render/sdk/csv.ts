// CSV (RFC 4180) for apps: quoted fields with "" escapes, commas, CRLF or LF
// line ends, newlines inside quotes. Pure, so the server (which cuts an
// imported file into inputs at record ends) and every replica (which applies
// them) read a file the same way.
import { SdkError } from './errors.js';

export class CsvError extends SdkError {}

/** One field, quoted when it must be. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Records as rows of fields; a trailing line end adds no record. Throws CsvError on bad quoting. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let atFieldStart = true;
  const endField = () => {
    row.push(field);
    field = '';
    atFieldStart = true;
  };
  const endRow = () => {
    endField();
    rows.push(row);
    row = [];
  };
  while (i < text.length) {
    const ch = text[i];
    if (atFieldStart && ch === '"') {
      // Quoted field: runs to the closing quote; "" is a quote.
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new CsvError(`unterminated quoted field starting in record ${rows.length + 1}`);
        field += text.slice(i, q);
        if (text[q + 1] === '"') {
          field += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      const next = text[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new CsvError(`text after a closing quote in record ${rows.length + 1}`);
      }
      atFieldStart = false;
      continue;
    }
    atFieldStart = false;
    if (ch === ',') {
      endField();
      i++;
    } else if (ch === '\r' || ch === '\n') {
      endRow();
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else if (ch === '"') {
      throw new CsvError(`a quote inside an unquoted field in record ${rows.length + 1}`);
    } else {
      field += ch;
      i++;
    }
  }
  if (!atFieldStart || row.length > 0 || field !== '') endRow();
  return rows;
}

/** Records back to CSV text (CRLF line ends). */
export function toCsvText(rows: readonly (readonly string[])[]): string {
  return rows.map((r) => `${r.map(csvField).join(',')}\r\n`).join('');
}
