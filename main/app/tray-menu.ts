// The tray item's menu as data: status lines (greyed out, for reading), then what the user can do.
// Kept apart from tray.ts so the menu is unit-tested without Electron; only types come from it.
import type { MenuItemConstructorOptions } from 'electron';
import type { TrayText } from './tray-status.js';

export interface TrayActions {
  showWindow(): void;
  copyApiUrl(): void;
  quit(): void;
}

export function trayMenuTemplate(text: TrayText, actions: TrayActions): MenuItemConstructorOptions[] {
  return [
    ...text.lines.map((label): MenuItemConstructorOptions => ({ label, enabled: false })),
    { type: 'separator' },
    { label: 'Show Window', click: () => actions.showWindow() },
    { label: 'Copy API URL', click: () => actions.copyApiUrl() },
    { type: 'separator' },
    // Quit, not close: closing the window leaves the node serving; this stops it.
    { label: 'Quit Tessera', accelerator: 'CommandOrControl+Q', click: () => actions.quit() },
  ];
}
