// Builds OpenNRM's front-end assets into src/opennrm/static/dist/:
// the stylesheet compiled from assets/scss, GOV.UK Frontend's JavaScript, and our own module.
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "src/opennrm/static/dist");
mkdirSync(out, { recursive: true });

const result = sass.compile(join(root, "assets/scss/app.scss"), {
  style: "compressed",
  importers: [new sass.NodePackageImporter(root)],
  quietDeps: true,
  silenceDeprecations: ["import"],
});
writeFileSync(join(out, "app.css"), result.css);

const govuk = join(root, "node_modules/govuk-frontend/dist/govuk");
copyFileSync(join(govuk, "govuk-frontend.min.js"), join(out, "govuk-frontend.min.js"));
copyFileSync(join(root, "assets/js/app.mjs"), join(out, "app.mjs"));
// The GOV.UK accessible autocomplete, loaded before app.mjs, which enhances selects with it.
const autocomplete = join(root, "node_modules/accessible-autocomplete/dist");
for (const name of ["accessible-autocomplete.min.js", "accessible-autocomplete.min.css"]) {
  copyFileSync(join(autocomplete, name), join(out, name));
}
console.log(`assets built in ${out}`);
