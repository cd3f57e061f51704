// Where the tray icon files are. They live in main/app/assets/ (drawn by make-tray-icons.mjs there)
// and are found from the package root, which is the same folder from the sources, from dist/ and
// inside a packaged app's asar (electron-builder.yml packs main/app/assets/).
import { join } from 'node:path';
import { packageRoot } from '../node/version.js';

export const TRAY_ICON_DIR = join('main', 'app', 'assets');

/**
 * macOS takes a black "template" image it tints for the menu bar; other systems get the coloured
 * one. Electron loads the `@2x` file beside either on high-density screens.
 */
export function trayIconPath(platform: NodeJS.Platform, root: string = packageRoot()): string {
  return join(root, TRAY_ICON_DIR, platform === 'darwin' ? 'trayTemplate.png' : 'tray.png');
}
