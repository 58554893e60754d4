// The apps a renderer node can host, by name.
import { AppNotFoundError } from '../errors.js';
import type { App } from '../app-types.js';
import { writerApp } from './writer/index.js';

// Apps are invariant in their state type; the node treats states as opaque,
// so the registry erases the type once, here.
const APPS: ReadonlyMap<string, App<unknown>> = new Map([[writerApp.name, writerApp as unknown as App<unknown>]]);

export function getApp(name: string): App<unknown> {
  const app = APPS.get(name);
  if (!app) throw new AppNotFoundError(name);
  return app;
}

export function appNames(): string[] {
  return [...APPS.keys()];
}
