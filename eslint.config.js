// Lint: typescript-eslint's recommended rules plus one local rule that keeps the layers apart
// (docs/ENGINEERING.md): `electron` only in main/app/, shared/ free of Node built-ins and the DOM,
// renderer/ importing only shared/, its own files and npm UI packages. Do not relax the layering
// rule; move the code instead.
import { builtinModules } from 'node:module';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const root = dirname(fileURLToPath(import.meta.url));
const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

/** The layer a repository-relative path belongs to. */
function layerOf(path) {
  if (path.startsWith('main/app/')) return 'app';
  if (path.startsWith('main/')) return 'main';
  if (path.startsWith('shared/')) return 'shared';
  if (path.startsWith('renderer/src/')) return 'renderer';
  return 'other';
}

/** Why `specifier`, imported from `fromLayer`, breaks the layering; undefined when it is fine. */
function layeringProblem(fromLayer, fromPath, specifier) {
  const bare = !specifier.startsWith('.') && !specifier.startsWith('/');
  if (bare) {
    if ((specifier === 'electron' || specifier.startsWith('electron/')) && fromLayer !== 'app') {
      return '`electron` may be imported only in main/app/ (the Electron shell)';
    }
    const isTest = fromPath.endsWith('.test.ts'); // tests run under Node whatever they test
    if (NODE_BUILTINS.has(specifier) && !isTest && (fromLayer === 'shared' || fromLayer === 'renderer')) {
      return `${fromLayer}/ runs in the browser too and may not import the Node built-in "${specifier}"`;
    }
    return undefined;
  }
  const target = relative(root, resolve(root, dirname(fromPath), specifier)).split(sep).join('/');
  const targetLayer = layerOf(target);
  if (fromLayer === 'shared' && targetLayer !== 'shared') return 'shared/ may import only shared/';
  if (fromLayer === 'renderer' && targetLayer !== 'renderer' && targetLayer !== 'shared') {
    return 'renderer/ may import only its own files and shared/ (it reaches the node through the control API)';
  }
  if ((fromLayer === 'main' || fromLayer === 'app') && targetLayer === 'renderer') return 'main/ may not import renderer/';
  return undefined;
}

const layeringRule = {
  meta: { type: 'problem', docs: { description: 'keep main/app, main, shared and renderer apart' }, schema: [] },
  create(context) {
    const fromPath = relative(root, context.filename).split(sep).join('/');
    const fromLayer = layerOf(fromPath);
    const check = (node, source) => {
      if (source?.type !== 'Literal' || typeof source.value !== 'string') return;
      const problem = layeringProblem(fromLayer, fromPath, source.value);
      if (problem) context.report({ node, message: `Bad layering: ${problem}.` });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
      TSImportType: (node) => check(node, node.argument?.type === 'TSLiteralType' ? node.argument.literal : node.source),
      CallExpression: (node) => {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require') check(node, node.arguments[0]);
      },
    };
  },
};

export default defineConfig(
  {
    ignores: [
      'dist/**',
      'release/**',
      'node_modules/**',
      'test-results/**',
      'main/engine/kernels/assembly/**',
      'main/engine/kernels/build/**',
      '**/*.mjs',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly' },
    },
    plugins: { local: { rules: { layering: layeringRule } } },
    rules: {
      'local/layering': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // TypeScript already reports undefined names, with the right globals for each tsconfig.
      'no-undef': 'off',
    },
  },
  {
    files: ['shared/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'process', 'Buffer', '__dirname'],
    },
  },
);
