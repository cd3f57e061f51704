// Runs in the sandboxed renderer before the UI loads, and hands the UI exactly one thing: a way to
// ask the main process for the node token. The renderer never holds ipcRenderer or Node.
//
// Sandboxed preloads cannot be ES modules and may `require` only Electron's own modules, so this
// folder is CommonJS (see its package.json) and the file has no imports; the two names below must
// match PRELOAD_GLOBAL and PRELOAD_TOKEN_CHANNEL in shared/control.ts (preload.test.ts checks).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { contextBridge, ipcRenderer } = require('electron') as typeof import('electron');

contextBridge.exposeInMainWorld('tessera', {
  getToken: (): Promise<string> => ipcRenderer.invoke('tessera:get-token') as Promise<string>,
});
