// A typed EventEmitter: each class declares its event map, and the compiler
// checks every emit and listener against it.
import { EventEmitter } from 'node:events';

export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  readonly #ee = new EventEmitter();

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#ee.on(event, listener as (...args: unknown[]) => void);
    return this;
  }
  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#ee.once(event, listener as (...args: unknown[]) => void);
    return this;
  }
  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#ee.off(event, listener as (...args: unknown[]) => void);
    return this;
  }
  protected emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    return this.#ee.emit(event, ...args);
  }
}
