// Runs the page's own app.js in Node against a small stand-in for the DOM, and reports what the page shows
// after a good prediction and then a failed one. Usage: node page_after_error.js APP_JS ANSWER_JSON ERROR_JSON
// (ANSWER_JSON: a real /api/predict answer; ERROR_JSON: a real 422 body). Prints one JSON object.
"use strict";
const fs = require("fs");
const [appPath, answerPath, errorPath] = process.argv.slice(2);
const answerText = fs.readFileSync(answerPath, "utf8");
const errorText = fs.readFileSync(errorPath, "utf8");

class Node {
  constructor(tag) {
    this.tag = tag; this.children = []; this.hidden = false; this.textContent = ""; this.className = "";
    this.dataset = {}; this.style = {}; this.attrs = {}; this.listeners = {}; this.value = ""; this.disabled = false;
    this.classList = {add() {}, remove() {}};
  }
  append(...nodes) { this.children.push(...nodes); }
  replaceChildren(...nodes) { this.children = nodes; }
  setAttribute(k, v) { this.attrs[k] = v; }
  removeAttribute(k) { delete this.attrs[k]; }
  getAttribute(k) { return this.attrs[k]; }
  addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }
  click() {}
  remove() {}
}
const byId = {};
const buttons = ["ss2", "horiz", "json"].map((f) => { const b = new Node("button"); b.dataset.format = f; return b; });
global.document = {
  getElementById: (id) => (byId[id] = byId[id] || new Node("div")),
  createElement: (tag) => new Node(tag),
  createTextNode: (text) => Object.assign(new Node("#text"), {textContent: text}),
  querySelectorAll: (sel) => (sel === ".downloads button" ? buttons : []),
  body: new Node("body"),
};
global.window = global;
global.URL.createObjectURL = () => "blob:x";
global.Blob = class { constructor(parts) { this.parts = parts; } };
const fetched = [];
let next = null;  // the answer the next /api/predict gets: {status, body}
global.fetch = async (url) => {
  fetched.push(url);
  if (url === "/api/info") throw new Error("no info in this check");
  const {status, body} = next;
  return {ok: status === 200, status, text: async () => body, json: async () => JSON.parse(body),
          blob: async () => new global.Blob([body])};
};

eval(fs.readFileSync(appPath, "utf8"));

async function submit(text, status, body) {
  next = {status, body};
  byId.fasta.value = text;
  for (const fn of byId["predict-form"].listeners.submit) await fn({preventDefault() {}});
}

(async () => {
  const state = () => ({results_hidden: byId.results.hidden, records: byId.records.children.length,
                        error_hidden: byId.error.hidden, error: byId.error.textContent});
  await submit(">a\nMKV\n", 200, answerText);
  const afterGood = state();
  await submit(">a\nMK1V\n", 422, errorText);
  const afterBad = state();
  const before = fetched.length;
  for (const b of buttons) for (const fn of b.listeners.click) await fn();
  const downloadFetches = fetched.length - before;
  await submit(">a\nMKV\n", 200, answerText);
  await submit("   ", 200, answerText);  // an empty box fails before any request
  const afterEmpty = state();
  console.log(JSON.stringify({afterGood, afterBad, downloadFetches, afterEmpty}));
})();
