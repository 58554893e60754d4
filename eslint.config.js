// ESLint flat config for Lockstep (ESLint 9 + typescript-eslint 8, type-aware).
// `npm run lint` runs: tsc --noEmit, eslint ., prettier --check ., lint:docker.
import { readFileSync } from 'node:fs';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// Files outside tsconfig.json's "include" are not part of any TS project, and the
// type-aware rules need one. bin/ (the CLI, bin/lockstep.ts) is not included in
// tsconfig.json today, so it goes through the project service's default project.
// typescript-eslint errors if a file is both in allowDefaultProject and in a real
// tsconfig, so the fallback switches itself off once tsconfig.json includes "bin".
function tsconfigIncludes(dir) {
  try {
    const include = JSON.parse(readFileSync(new URL('./tsconfig.json', import.meta.url), 'utf8')).include ?? [];
    return include.some((p) => p === dir || p.startsWith(`${dir}/`));
  } catch {
    return false;
  }
}
const allowDefaultProject = tsconfigIncludes('bin') ? [] : ['bin/*.ts'];

// Node globals for plain .js/.mjs files (TS files get them from @types/node).
const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'clearImmediate',
    'queueMicrotask',
    'structuredClone',
    'AbortController',
    'AbortSignal',
    'TextEncoder',
    'TextDecoder',
    'fetch',
    'performance',
  ].map((g) => [g, 'readonly']),
);

export default defineConfig(
  {
    ignores: [
      'node_modules/',
      'viewer/dist/',
      'bench/results/',
      'data/',
      '.lockstep/',
      'test-results/',
      'coverage/',
      'render/fonts/',
    ],
  },

  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,

  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject,
          defaultProject: 'tsconfig.json',
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      // Logging goes through protocol/logger.ts (pino, stderr); see the override below.
      'no-console': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-var': 'error',
      'object-shorthand': 'error',

      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: true },
      ],
      '@typescript-eslint/consistent-type-exports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true, requireDefaultForNonUnion: false },
      ],
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe() return promises the runner awaits itself.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/prefer-nullish-coalescing': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
    },
  },

  // Plain JS (config files, scripts/*.mjs, bin/*.mjs): not in any TS project.
  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'module',
      globals: nodeGlobals,
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'off',
      '@typescript-eslint/consistent-type-exports': 'off',
    },
  },

  // Product code (the CLI, the server, the renderer, the viewer, the product's
  // scripts and benches) never stands on test helpers; tests use the product.
  {
    files: ['bin/**', 'protocol/**', 'server/**', 'render/**', 'viewer/**', 'scripts/**', 'bench/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/test/**'], message: 'product code must not import from test/' }] },
      ],
    },
  },

  // Console output is the point of scripts, benches, tests and CLI entry points.
  {
    files: ['scripts/**', 'bench/**', 'test/**', 'bin/**', '**/main.ts', '**/cli.ts'],
    rules: {
      'no-console': 'off',
    },
  },
);
