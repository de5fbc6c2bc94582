import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * Import restrictions, one list per scope. In flat config a later block's rule replaces an
 * earlier one for the files it matches, so each scope repeats the patterns that still apply.
 */
const LIB_ENTRY_POINTS = {
  group: ['**/libs/*/src/**', '**/libs/*/src'],
  message: 'Import a lib through its public entry point (@comity/<lib>).',
};
const FRAMEWORK_FREE = {
  group: ['@nestjs/*', 'typeorm', 'typeorm/*', 'amqplib', 'pg', 'pg-*'],
  message: 'libs/ stay framework-free.',
};
const DATABASE_IN_PERSISTENCE = {
  group: ['typeorm', 'typeorm/*', '@nestjs/typeorm', 'pg', 'pg-*'],
  message:
    'Only apps/gateway/src/persistence/ talks to the database: use a repository or UnitOfWork.',
};
const AMQP_IN_TRANSPORT = {
  group: ['amqplib', 'amqplib/*'],
  message: 'Only apps/gateway/src/transport/ speaks AMQP: inject MESSAGE_TRANSPORT.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'certs-dev/**', 'test-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      'no-console': 'error',
      'import-x/no-cycle': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Not consistent-type-imports: NestJS injection needs constructor parameter types as values.
      // no-restricted-imports checks `import type` too: a type is a dependency like any other.
      'no-restricted-imports': ['error', { patterns: [LIB_ENTRY_POINTS] }],
    },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
  },
  {
    // The protocol libs are framework-free: no NestJS, TypeORM or AMQP inside them.
    files: ['libs/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [LIB_ENTRY_POINTS, FRAMEWORK_FREE] }] },
  },
  {
    // The gateway's features reach the database and the broker through ports only.
    files: ['apps/gateway/src/**/*.ts'],
    ignores: ['apps/gateway/src/persistence/**', 'apps/gateway/src/transport/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [LIB_ENTRY_POINTS, DATABASE_IN_PERSISTENCE, AMQP_IN_TRANSPORT] },
      ],
    },
  },
  {
    files: ['apps/gateway/src/persistence/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [LIB_ENTRY_POINTS, AMQP_IN_TRANSPORT] }],
    },
  },
  {
    files: ['apps/gateway/src/transport/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [LIB_ENTRY_POINTS, DATABASE_IN_PERSISTENCE] }],
    },
  },
  {
    // Command-line programs and test harnesses talk to a terminal.
    files: ['apps/cli/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
    languageOptions: {
      globals: {
        module: 'writable',
        require: 'readonly',
        __dirname: 'readonly',
        process: 'readonly',
      },
    },
  },
  {
    // The operator console and the workspace: native ES modules loaded by the browser as they
    // are, so a wrong import path or name shows only there; the lint catches it first.
    files: ['apps/gateway/console/**/*.js', 'apps/gateway/workspace/**/*.js'],
    plugins: { 'import-x': importX },
    languageOptions: {
      sourceType: 'module',
      globals: {
        module: 'off',
        require: 'off',
        __dirname: 'off',
        process: 'off',
        document: 'readonly',
        window: 'readonly',
        sessionStorage: 'readonly',
        fetch: 'readonly',
        URLSearchParams: 'readonly',
        URL: 'readonly',
        Blob: 'readonly',
        FileReader: 'readonly',
        Node: 'readonly',
        atob: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: {
      'no-console': 'error',
      'import-x/no-cycle': 'error',
      'import-x/no-unresolved': 'error',
      'import-x/named': 'error',
      'import-x/extensions': ['error', 'always'],
    },
  },
);
