// Writes the bundle's manifest: manifest.json with the tools, version and platform of the
// binary being packed, so that the list of tools is read from the binary, never retyped.
//
//   node manifest.mjs TEMPLATE TOOLS_JSON VERSION PLATFORM   # prints the bundle's manifest
//   node manifest.mjs --sync TEMPLATE TOOLS_JSON VERSION     # rewrites TEMPLATE's tools, version
import { readFileSync, writeFileSync } from "node:fs";

const args = process.argv.slice(2);
const sync = args[0] === "--sync";
if (sync) args.shift();
const [templatePath, toolsPath, version, platform] = args;
if (!templatePath || !toolsPath || !version || (!sync && !platform)) {
  console.error("usage: node manifest.mjs [--sync] TEMPLATE TOOLS_JSON VERSION [PLATFORM]");
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(templatePath, "utf8"));
const tools = JSON.parse(readFileSync(toolsPath, "utf8"));
if (!Array.isArray(tools) || tools.length === 0) {
  console.error(`${toolsPath}: expected the non-empty array of \`scale-advisor tools --json\``);
  process.exit(1);
}
manifest.version = version;
manifest.tools = tools.map(({ name, description }) => ({ name, description }));
const text = (value) => JSON.stringify(value, null, 2) + "\n";
if (sync) {
  writeFileSync(templatePath, text(manifest));
} else {
  manifest.compatibility = { ...manifest.compatibility, platforms: [platform] };
  process.stdout.write(text(manifest));
}
