// Builds the UI into dist/renderer, which the node's HTTP server serves at `/`.
// Vite 8 compiles TSX itself (Oxc); no React plugin is needed for a production build.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    // No inline scripts or styles: the UI's Content-Security-Policy allows only files from the node.
    assetsInlineLimit: 0,
  },
  server: {
    // `vite dev` for UI work: proxy the API to a node started with `tessera serve` on the default port.
    proxy: { '/api': { target: 'http://127.0.0.1:7340', ws: true } },
  },
});
