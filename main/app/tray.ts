// The tray (menu-bar on macOS) item: the app lives here while its window is closed. It shows the
// cluster's status (tray-status.ts follows the node's events) and offers Show Window, Copy API
// URL and Quit (tray-menu.ts).
import { Menu, nativeImage, Tray } from 'electron';
import type { TesseraNode } from '../node/node.js';
import { trayIconPath } from './tray-icon.js';
import { trayMenuTemplate, type TrayActions } from './tray-menu.js';
import { TrayStatusFeed, type TrayText } from './tray-status.js';

export class StatusTray {
  readonly #tray: Tray;
  readonly #feed: TrayStatusFeed;

  constructor(node: TesseraNode, actions: TrayActions) {
    const icon = nativeImage.createFromPath(trayIconPath(process.platform));
    if (process.platform === 'darwin') icon.setTemplateImage(true); // macOS tints it for light and dark bars
    const tray = new Tray(icon);
    this.#tray = tray;
    // Windows and most Linux bars: a left click opens the window; the menu is on the right button.
    tray.on('click', () => actions.showWindow());
    this.#feed = new TrayStatusFeed(node, (text: TrayText) => {
      tray.setToolTip(text.tooltip);
      // Linux's StatusNotifier picks up menu changes only when the menu is set again.
      tray.setContextMenu(Menu.buildFromTemplate(trayMenuTemplate(text, actions)));
    });
  }

  destroy(): void {
    this.#feed.stop();
    this.#tray.destroy();
  }
}
