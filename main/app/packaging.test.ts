// electron-builder.yml, checked against the files a build really makes and the runtime
// dependencies really installed: the app's code, preload and UI go in; the kernels' .wasm, the
// engine's worker files and sodium-native's native addon are unpacked from the asar.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../node/version.js';
import { TRAY_ICON_DIR } from './tray-icon.js';

interface BuilderConfig {
  files: string[];
  asarUnpack: string[];
  npmRebuild?: boolean;
  extraMetadata?: { main?: string };
  linux: { target: string[] };
  mac: { target: string };
  win: { target: string };
}

const root = packageRoot();
// electron-builder's own YAML reader and glob matcher (its dependencies, not ours), so the file
// is read and its patterns matched as electron-builder does.
const builderRequire = createRequire(createRequire(join(root, 'package.json')).resolve('app-builder-lib/package.json'));
const yaml = builderRequire('js-yaml') as { load(text: string): unknown };
const { minimatch } = builderRequire('minimatch') as { minimatch(path: string, pattern: string, options: { dot: boolean }): boolean };
const config = yaml.load(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as BuilderConfig;
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string; dependencies: Record<string, string> };

/** Whether a path is packed, by the rule that the last matching pattern wins (a `!` one excludes). */
function packed(path: string): boolean {
  let included = false;
  for (const pattern of config.files) {
    const negated = pattern.startsWith('!');
    if (minimatch(path, negated ? pattern.slice(1) : pattern, { dot: true })) included = !negated;
  }
  return included;
}

const unpacked = (path: string) => config.asarUnpack.some((pattern) => minimatch(path, pattern, { dot: true }));

test('the app’s code, preload, UI and tray icons are packed; tests and source maps are not', () => {
  assert.equal(config.extraMetadata?.main, packageJson.main);
  assert.ok(existsSync(join(root, 'main', 'app', 'main.ts')), 'package.json main is built from main/app/main.ts');
  assert.equal(packageJson.main, 'dist/main/app/main.js');
  for (const path of ['package.json', packageJson.main, 'dist/main/app/preload/index.js', 'dist/main/app/preload/package.json', 'dist/renderer/index.html', 'dist/renderer/assets/index-abc.js']) {
    assert.ok(packed(path), `${path} is packed`);
  }
  const icons = readdirSync(join(root, TRAY_ICON_DIR)).filter((name) => name.endsWith('.png'));
  assert.ok(icons.length >= 4);
  for (const icon of icons) assert.ok(packed(`${TRAY_ICON_DIR.split('\\').join('/')}/${icon}`), `${icon} is packed`);
  for (const path of ['dist/main/app/main.js.map', 'dist/main/app/tray.test.js', 'main/app/main.ts', 'renderer/src/App.tsx']) {
    assert.ok(!packed(path), `${path} is left out`);
  }
});

test('the kernels, the engine’s workers and native addons are unpacked from the asar', () => {
  // scripts/build-kernels.mjs writes kernels.wasm (and variants beside it) into kernels/build/.
  const built = join(root, 'main', 'engine', 'kernels', 'build');
  const kernels = new Set(['kernels.wasm', ...(existsSync(built) ? readdirSync(built).filter((name) => name.endsWith('.wasm')) : [])]);
  for (const name of kernels) {
    const path = `dist/main/engine/kernels/build/${name}`; // where scripts/copy-assets.mjs puts them
    assert.ok(packed(path) && unpacked(path), `${path} is packed and unpacked`);
  }
  assert.ok(unpacked('dist/main/engine/worker/engine-thread.js'));
  // sodium-native (under noise-handshake) loads prebuilds/<platform>-<arch>/sodium-native.node.
  const prebuilds = join(root, 'node_modules', 'sodium-native', 'prebuilds');
  const addons = readdirSync(prebuilds, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.node'));
  assert.ok(addons.some((name) => name.startsWith(`${process.platform}-${process.arch}`)), 'a prebuild for this platform');
  for (const addon of addons) assert.ok(unpacked(`node_modules/sodium-native/prebuilds/${addon.split('\\').join('/')}`), addon);
  // The UI and the preload stay inside the asar.
  assert.ok(!unpacked('dist/renderer/index.html') && !unpacked('dist/main/app/preload/index.js'));
});

test('runtime dependencies are not filtered out, and their native addons need no rebuild', () => {
  // electron-builder adds production node_modules itself; only a `!` pattern could drop them.
  for (const name of Object.keys(packageJson.dependencies)) {
    assert.ok(existsSync(join(root, 'node_modules', name, 'package.json')), `${name} is installed`);
    assert.ok(!config.files.some((pattern) => pattern.startsWith('!') && minimatch(`node_modules/${name}/index.js`, pattern.slice(1), { dot: true })), `${name} is not excluded`);
  }
  assert.ok('noise-handshake' in packageJson.dependencies);
  // sodium-native ships N-API prebuilds (no binding.gyp): nothing to rebuild for Electron.
  assert.ok(!existsSync(join(root, 'node_modules', 'sodium-native', 'binding.gyp')));
  assert.equal(config.npmRebuild, false);
});

test('each desktop gets its installer: AppImage and deb, dmg, nsis', () => {
  assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
  assert.equal(config.mac.target, 'dmg');
  assert.equal(config.win.target, 'nsis');
});
