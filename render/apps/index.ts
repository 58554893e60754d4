// The apps a renderer node can host, by name.
import { AppNotFoundError } from '../errors.js';
import type { App } from '../app-types.js';
import { paintApp } from './paint/index.js';
import { writerApp } from './writer/index.js';

// The node treats app states as opaque: App's methods are bivariant in the
// state type, so each app fits App<unknown> as it is.
const APPS: ReadonlyMap<string, App<unknown>> = new Map<string, App<unknown>>([
  [writerApp.name, writerApp],
  [paintApp.name, paintApp],
]);

export function getApp(name: string): App<unknown> {
  const app = APPS.get(name);
  if (!app) throw new AppNotFoundError(name);
  return app;
}

export function appNames(): string[] {
  return [...APPS.keys()];
}
