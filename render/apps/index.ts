// The built-in apps a renderer node can host, by name. Each is an app folder
// written against the public SDK (render/sdk/), like any other app.
import { builtinAppDir } from './builtin-host.js';
import { readManifest } from '../app-manifest.js';
import { AppNotFoundError } from '../errors.js';
import type { App } from '../app-types.js';
import { adaptSdkApp } from '../sdk-app.js';
import paint, { type PaintState } from './paint/index.js';
import sheet, { type SheetState } from './sheet/index.js';
import writer, { type WriterState } from './writer/index.js';

export const writerApp: App<WriterState> = adaptSdkApp(readManifest(builtinAppDir('writer')), writer);
export const paintApp: App<PaintState> = adaptSdkApp(readManifest(builtinAppDir('paint')), paint);
export const sheetApp: App<SheetState> = adaptSdkApp(readManifest(builtinAppDir('sheet')), sheet);

// The node treats app states as opaque: App's methods are bivariant in the
// state type, so each app fits App<unknown> as it is.
const APPS: ReadonlyMap<string, App<unknown>> = new Map<string, App<unknown>>([
  [writerApp.name, writerApp],
  [paintApp.name, paintApp],
  [sheetApp.name, sheetApp],
]);

export function getApp(name: string): App<unknown> {
  const app = APPS.get(name);
  if (!app) throw new AppNotFoundError(name);
  return app;
}

export function appNames(): string[] {
  return [...APPS.keys()];
}
