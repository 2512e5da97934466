// "Request run" on a plan row: POST /benchmarks/requests with the page's API key (the key needs
// the benchmarks:request scope). Without a key, or when the key is refused, the row shows the
// equivalent `modelcat benchmarks request` command instead: the page never writes unauthenticated.

import { api, ApiError, apiKey } from "./api.js";
import { el } from "./ui.js";

// A request carries only these options; the job maps them back onto the run's config
// (assets/benchmarks/runs.py REQUEST_OPTIONS). Engine, dtype and input length take the defaults.
const REQUEST_OPTIONS = { batch_size: "concurrency", max_output_tokens: "output_len" };

/** The request options that reproduce a plan row's config, where it sets them. */
export function requestOptions(config) {
  const options = {};
  for (const [option, key] of Object.entries(REQUEST_OPTIONS)) {
    if (Number.isInteger(config[key]) && config[key] >= 1) options[option] = config[key];
  }
  return options;
}

/** A POSIX shell word: bare when it is plainly safe, else single-quoted. */
function shellWord(text) {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

export function cliCommand(item, options) {
  const flags = Object.entries(options).map(([name, value]) => ` --${name.replaceAll("_", "-")} ${value}`);
  return `modelcat benchmarks request ${shellWord(item.model_id)} --gpu ${shellWord(item.gpu)}${flags.join("")}`;
}

function commandHelp(item, options, why) {
  const command = el("code", { class: "command" }, cliCommand(item, options));
  const copy = navigator.clipboard
    ? el("button", { type: "button", class: "linkish copy", onclick: async (event) => {
      const button = event.currentTarget;
      try {
        await navigator.clipboard.writeText(command.textContent);
        button.textContent = "Copied";
      } catch {
        button.textContent = "Select the command to copy it";
      }
    } }, "Copy")
    : null;
  return [el("div", { class: "detail" }, why), el("div", { class: "command-row" }, command, copy)];
}

async function submit(item, button, out) {
  const options = requestOptions(item.config);
  if (!apiKey()) {
    out.replaceChildren(...commandHelp(item, options, "Requesting needs an API key with the "
      + "benchmarks:request scope (top right). Or run, with CATALOG_API_KEY set:"));
    return;
  }
  button.disabled = true;
  out.replaceChildren(el("span", { class: "detail" }, "Requesting…"));
  try {
    const body = await api("/benchmarks/requests", {
      body: { model_id: item.model_id, gpu: item.gpu, ...options,
        note: `from the benchmark plan: ${item.reason}` },
    });
    button.textContent = "Requested";
    button.setAttribute("aria-label", `Requested a run of ${item.model_id} on ${item.gpu}`);
    out.replaceChildren(el("span", { class: `chip status-${body.status}` }, body.status),
      el("span", { class: "detail request-id", title: body.id },
        `${body.deduplicated ? "already requested · " : ""}id ${body.id.slice(0, 8)}`));
  } catch (error) {
    button.disabled = false;
    const refused = error instanceof ApiError && (error.status === 401 || error.status === 403);
    out.replaceChildren(el("div", { class: "detail error", role: "alert" }, error.message),
      ...(refused ? commandHelp(item, options, "Or run, with CATALOG_API_KEY set:") : []));
  }
}

/** The row's last cell: the button, and where its outcome appears. */
export function requestCell(item) {
  const out = el("div", { class: "request-out", "aria-live": "polite" });
  const button = el("button", { type: "button", class: "request",
    "aria-label": `Request run of ${item.model_id} on ${item.gpu}` }, "Request run");
  button.addEventListener("click", () => submit(item, button, out));
  return el("td", { class: "request-cell" }, button, out);
}
