// node jstokens.mjs ACORN MARKER FILE...: parses each JavaScript module with acorn and prints,
// as one JSON object per file, where MARKER occurs: in code tokens (names, punctuation: the
// spec text became code), in string/template tokens, or in comments (data, as it should be).
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [module, marker, ...files] = process.argv.slice(2);
const acorn = await import(pathToFileURL(module).href);
const out = {};
for (const file of files) {
  const text = readFileSync(file, "utf8");
  const found = { error: null, code: [], data: 0, comments: 0 };
  try {
    const comments = [];
    const tokens = [];
    acorn.parse(text, {
      ecmaVersion: "latest",
      sourceType: "module",
      onComment: comments,
      onToken: tokens,
    });
    for (const c of comments) if (c.value.includes(marker)) found.comments += 1;
    for (const t of tokens) {
      const raw = text.slice(t.start, t.end);
      if (!raw.includes(marker)) continue;
      if (t.type.label === "string" || t.type.label === "template") found.data += 1;
      else found.code.push(`${t.type.label}: ${raw.slice(0, 80)}`);
    }
  } catch (e) {
    found.error = String(e.message);
  }
  out[file] = found;
}
console.log(JSON.stringify(out));
