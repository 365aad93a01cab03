// ESLint for the TypeScript in src/, tests/, scripts/ and the <script> blocks of .astro components.
// Formatting is prettier's job; these rules catch mistakes (unused code, unsafe patterns).
import js from '@eslint/js';
import astro from 'eslint-plugin-astro';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', '.astro/', 'node_modules/', 'training/', 'public/', '.venv/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...astro.configs.recommended,
  {
    languageOptions: {
      globals: {
        // Browser and Node globals both appear: components run in the page, tests and scripts in Node.
        window: 'readonly',
        document: 'readonly',
        navigator: 'readonly',
        location: 'readonly',
        history: 'readonly',
        console: 'readonly',
        process: 'readonly',
      },
    },
    rules: {
      // An argument kept for a callback's shape is named with a leading underscore.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Tests and the benchmark read the figures' page-side test hooks (`element.result`) and raw JSON,
    // whose shapes the assertions themselves check; typing each hook twice would add nothing.
    files: ['tests/**', 'scripts/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
