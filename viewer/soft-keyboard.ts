// The on-screen keyboard path: an invisible textarea inside the stage takes
// focus (so phones raise their keyboard and IMEs have somewhere to compose),
// and whatever the keyboard does to it becomes key inputs at the app's caret.
// Hardware keys never reach it: input-capture.ts sends them and cancels
// their default action. Compositions are sent once, when committed.
import type { InputEvent } from '../protocol/input.js';
import { h } from './dom.js';
import { editInputs, namedKeyTap } from './key-mapping.js';
import { diffTextarea, graphemes, type TextareaState } from './text-edit.js';

export interface SoftKeyboardOptions {
  stage: HTMLElement;
  send: (event: InputEvent) => void;
}

/** Keep this many recent characters as context for autocorrect and prediction. */
const KEEP_CHARS = 64;
const TRIM_ABOVE_CHARS = 256;

export class SoftKeyboard {
  readonly element: HTMLTextAreaElement;
  readonly #preedit: HTMLElement;
  readonly #send: (event: InputEvent) => void;
  /** What the app's text around its caret is assumed to match. */
  #synced: TextareaState = { value: '', caret: 0 };
  #composing = false;
  readonly #cleanups: Array<() => void> = [];

  constructor(opts: SoftKeyboardOptions) {
    this.#send = opts.send;
    this.element = h('textarea', {
      class: 'soft-input',
      'data-testid': 'soft-input',
      'aria-label': 'Type into the app',
      inputmode: 'text',
      enterkeyhint: 'enter',
      autocapitalize: 'off',
      autocorrect: 'off',
      autocomplete: 'off',
      spellcheck: 'false',
      rows: 1,
    });
    this.#preedit = h('div', { class: 'soft-preedit', 'data-testid': 'preedit', hidden: true });
    opts.stage.append(this.element, this.#preedit);
    const ta = this.element;
    this.#listen('beforeinput', (e) => this.#onBeforeInput(e));
    this.#listen('input', () => {
      if (!this.#composing) this.#flush();
    });
    this.#listen('compositionstart', () => {
      this.#flush(); // anything typed before the composition goes first
      this.#composing = true;
    });
    this.#listen('compositionupdate', (e) => {
      this.#preedit.textContent = e.data;
      this.#preedit.hidden = e.data.length === 0;
    });
    this.#listen('compositionend', () => {
      this.#composing = false;
      this.#preedit.hidden = true;
      this.#flush();
    });
    this.#cleanups.push(() => {
      ta.remove();
      this.#preedit.remove();
    });
  }

  focus(): void {
    this.element.focus({ preventScroll: true });
  }

  contains(node: Node | null): boolean {
    return node === this.element;
  }

  /**
   * The app's caret moved for another reason (a tap, a hardware key): the
   * textarea's text no longer describes what is around it, so start afresh.
   * A composition in progress is left alone; it is committed where it began.
   */
  reset(): void {
    if (this.#composing) return;
    this.element.value = '';
    this.#synced = { value: '', caret: 0 };
  }

  dispose(): void {
    for (const c of this.#cleanups.splice(0)) c();
  }

  #listen<K extends keyof HTMLElementEventMap>(type: K, fn: (e: HTMLElementEventMap[K]) => void): void {
    const handler = fn as EventListener;
    this.element.addEventListener(type, handler);
    this.#cleanups.push(() => this.element.removeEventListener(type, handler));
  }

  #onBeforeInput(e: InputEvent_): void {
    const ta = this.element;
    const collapsed = ta.selectionStart === ta.selectionEnd;
    switch (e.inputType) {
      case 'insertLineBreak':
      case 'insertParagraph':
        // Enter is a key to apps (it may do more than insert a newline).
        e.preventDefault();
        this.#flush();
        this.#keys(namedKeyTap('Enter'));
        this.reset();
        return;
      case 'deleteContentBackward':
        // Nothing left in the textarea to delete: the app still has text before its caret.
        if (collapsed && ta.selectionStart === 0 && !this.#composing) {
          e.preventDefault();
          this.#keys(namedKeyTap('Backspace'));
        }
        return;
      case 'deleteContentForward':
        if (collapsed && ta.selectionEnd === ta.value.length && !this.#composing) {
          e.preventDefault();
          this.#keys(namedKeyTap('Delete'));
        }
        return;
      case 'historyUndo':
      case 'historyRedo':
        // The textarea's own undo would rewrite text the app no longer has.
        e.preventDefault();
        return;
      default:
        return; // let it edit the textarea; the input event diffs it
    }
  }

  #flush(): void {
    const ta = this.element;
    const now: TextareaState = { value: ta.value, caret: ta.selectionEnd };
    const edit = diffTextarea(this.#synced, now);
    this.#synced = now;
    if (edit) this.#keys(editInputs(edit));
    if (ta.value.length > TRIM_ABOVE_CHARS && ta.selectionEnd === ta.value.length) {
      // Only recent context matters to the keyboard; keep the textarea small.
      const keep = graphemes(ta.value).slice(-KEEP_CHARS).join('');
      ta.value = keep;
      ta.setSelectionRange(keep.length, keep.length);
      this.#synced = { value: keep, caret: keep.length };
    }
  }

  #keys(events: InputEvent[]): void {
    for (const e of events) this.#send(e);
  }
}

/** The DOM's InputEvent (the protocol's InputEvent is the app input). */
type InputEvent_ = globalThis.InputEvent;
