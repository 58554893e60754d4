// Headless Debian Chromium, launched the way the failover demo does (scripts/lib/chromium.ts).
export { CHROMIUM, launchChromium, type DeviceOptions, type TestBrowser } from '../../scripts/lib/chromium.js';
