import { type Browser, chromium } from 'playwright-core';

/**
 * Debian's headless Chromium through playwright-core (installed by .ci/run); `CHROMIUM_PATH` overrides the path.
 * `extraArgs`, e.g. `--host-resolver-rules=…`, so that a page's third-party assets cannot even be resolved.
 */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}
