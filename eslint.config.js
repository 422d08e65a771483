// ESLint flat config: typescript-eslint's recommended rules on all TypeScript,
// plus the few type-aware rules that catch real bugs here (a promise nobody
// awaits or catches). Only those rules take type information, so the lint stays
// fast on a busy 2-core machine; the full *-type-checked presets cost minutes.
// Run by `npm run lint` (and so by `npm test`). Why ESLint: docs/DECISIONS.md.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    // dist/ is emitted, web/ is browser code served as is, bench/.work is scratch
    ignores: ['dist/**', 'node_modules/**', 'web/**', 'bench/.work/**', 'bench/.peers/**', 'objs/**'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A dropped promise is an unhandled rejection (which ends the process) or a race.
      // node:test's runner awaits and reports every test() and describe() itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `== null` stays allowed: it is the one idiom for "null or undefined"
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // TypeScript itself reports undefined names, and knows Node's globals
      'no-undef': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // recommended already has it on everywhere; stated here so that relaxing it
      // for tests or bench later cannot reach src
      '@typescript-eslint/no-explicit-any': 'error',
      // the server logs through pino (src/log); only the command-line programs print
      'no-console': 'error',
    },
  },
  {
    files: ['src/main/cli.ts', 'src/main/ctl.ts', 'src/main/proxy-cli.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly' },
    },
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
