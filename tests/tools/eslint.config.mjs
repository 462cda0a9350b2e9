// The lint the generated k6 scripts and perfspec's k6 support module are held to: ESLint's own
// recommended rules, as k6 runs them (ES modules; k6's globals).
// @eslint/js as .ci/setup.sh installs it (an ES module import does not search NODE_PATH)
import js from "../../.ci/npm/node_modules/@eslint/js/src/index.js";

export default [
  js.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { __ENV: "readonly", __VU: "readonly", __ITER: "readonly", open: "readonly", console: "readonly" },
    },
  },
];
