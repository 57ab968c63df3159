// sspred page: send the pasted FASTA to /api/predict, draw the answer.
// Everything from the user or the server is put on the page with textContent, never as HTML.
"use strict";

(function () {
  const ROW = 60;          // residues per row, as PSIPRED's .horiz
  const RULER_EVERY = 10;  // a position number under every 10th residue
  // State letter -> words a biologist reads; covers the 3- and 8-state models.
  const STATE_NAMES = {
    H: "helix", E: "strand", C: "coil", G: "3-10 helix", I: "pi helix", B: "bridge", T: "turn", S: "bend",
  };
  const EXAMPLE = ">1ubq_A ubiquitin (human)\n" +
    "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG\n";

  const $ = (id) => document.getElementById(id);
  const form = $("predict-form"), input = $("fasta"), errorBox = $("error"), results = $("results");
  const records = $("records"), readout = $("readout"), busy = $("busy"), button = $("predict");
  let last = null;   // {text, answer, jsonText} of the last successful prediction

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    input.setAttribute("aria-invalid", "true");
  }

  // A failed request leaves no answer on the page: the old records and their download buttons would read as
  // the answer to the input now in the box.
  function clearResults() {
    last = null;
    results.hidden = true;
    records.replaceChildren();
    readout.textContent = "";
  }

  function clearError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
    input.removeAttribute("aria-invalid");
  }

  // POST the text; resolve to the Response, or throw an Error whose message is for people.
  async function post(text, format) {
    let response;
    try {
      response = await fetch("/api/predict?format=" + encodeURIComponent(format), {
        method: "POST", headers: {"Content-Type": "text/plain; charset=utf-8"}, body: text,
      });
    } catch (e) {
      throw new Error("Could not reach the sspred server. Is it still running?");
    }
    if (!response.ok) {
      let message = "The server could not predict this input (HTTP " + response.status + ").";
      try {
        const body = await response.json();
        if (body && body.error && body.error.message) message = body.error.message;
      } catch (e) { /* not JSON: keep the generic message */ }
      throw new Error(message);
    }
    return response;
  }

  async function predict(event) {
    event.preventDefault();
    clearError();
    const text = input.value;
    if (!text.trim()) {
      clearResults();
      showError("The input is empty. Paste a protein sequence or upload a FASTA file.");
      return;
    }
    button.disabled = true;
    busy.hidden = false;
    try {
      const response = await post(text, "json");
      const jsonText = await response.text();
      const answer = JSON.parse(jsonText);
      last = {text: text, answer: answer, jsonText: jsonText};
      render(answer);
    } catch (e) {
      clearResults();
      showError(e.message);
    } finally {
      button.disabled = false;
      busy.hidden = true;
    }
  }

  function legend(states) {
    const box = $("legend");
    box.replaceChildren();
    for (const s of states) {
      const item = el("span");
      item.append(el("i", "swatch s-" + s), document.createTextNode(STATE_NAMES[s] + " (" + s + ")"));
      box.append(item);
    }
  }

  // The disorder track's legend item, only when the model has a disorder head (pred.disorder in the answer).
  function disorderLegend(answer) {
    if (!answer.predictions.some((p) => p.disorder)) return;
    const item = el("span", "legend-disorder");
    item.title = "Shade of each cell in the row under the states: " +
      "the predicted probability that the residue is disordered.";
    item.append(el("i", "ramp"), document.createTextNode("disordered (shade = P(disordered))"));
    $("legend").append(item);
  }

  function render(answer) {
    legend(answer.states);
    disorderLegend(answer);
    records.replaceChildren();
    answer.predictions.forEach((pred, r) => records.append(renderRecord(pred, r, answer.states)));
    const warnings = $("warnings");
    warnings.replaceChildren(...answer.warnings.map((w) => el("li", "", w)));
    warnings.hidden = answer.warnings.length === 0;
    readout.textContent = "Point at a residue to see its three probabilities.";
    results.hidden = false;
  }

  function renderRecord(pred, r, states) {
    const section = el("section", "record");
    section.dataset.record = String(r);
    section.append(el("h2", "record-id", pred.id));
    const counts = {};
    for (const s of pred.states) counts[s] = (counts[s] || 0) + 1;
    const summary = Array.from(states).map((s) =>
      STATE_NAMES[s] + " " + Math.round(100 * (counts[s] || 0) / pred.states.length) + "%").join(", ");
    section.append(el("p", "meta", pred.sequence.length + " residues; " + summary));
    for (let start = 0; start < pred.sequence.length; start += ROW) {
      const stop = Math.min(start + ROW, pred.sequence.length);
      const row = el("div", "row");
      row.append(el("span", "pos", String(start + 1)));
      const lines = el("div", "lines");
      const ruler = el("div", "line ruler"), aa = el("div", "line aa"), ss = el("div", "line ss");
      const conf = el("div", "line conf");
      // Under the states, for a model with a disorder head: one cell per residue shaded by P(disordered).
      const dis = pred.disorder ? el("div", "line dis") : null;
      for (let i = start; i < stop; i++) {
        const state = pred.states[i];
        const probs = pred.probabilities[i];
        const top = Math.max.apply(null, probs);
        ruler.append(el("span", "", (i + 1) % RULER_EVERY === 0 ? String(i + 1) : ""));
        const cell = el("span", "s-" + state, pred.sequence[i]);
        cell.dataset.i = String(i);
        cell.title = describe(pred, i, states);
        aa.append(cell);
        const letter = el("span", "s-" + state, state);
        letter.dataset.i = String(i);
        ss.append(letter);
        const bar = el("span");
        bar.dataset.i = String(i);
        const fill = el("b");
        fill.style.height = (100 * top).toFixed(0) + "%";
        bar.append(fill);
        conf.append(bar);
        if (dis) {
          const shade = el("span");
          shade.dataset.i = String(i);
          shade.title = "P(disordered) " + pred.disorder[i].toFixed(2);
          const ink = el("b");
          ink.style.opacity = String(pred.disorder[i]);
          shade.append(ink);
          dis.append(shade);
        }
      }
      lines.append(ruler, aa, ss);
      if (dis) lines.append(dis);
      lines.append(conf);
      row.append(lines);
      section.append(row);
    }
    return section;
  }

  function describe(pred, i, states) {
    const probs = pred.probabilities[i];
    const parts = Array.from(states).map((s, k) => STATE_NAMES[s] + " " + probs[k].toFixed(2));
    let text = pred.sequence[i] + (i + 1) + ": predicted " + STATE_NAMES[pred.states[i]] + " (" +
      pred.states[i] + ", confidence " + pred.confidence[i] + "/9); P: " + parts.join(", ");
    if (pred.disorder) text += "; P(disordered) " + pred.disorder[i].toFixed(2);
    if (pred.conservation) text += "; conservation " + pred.conservation[i] + "/9";
    if (pred.ss8) text += "; 8-state " + STATE_NAMES[pred.ss8[i]] + " (" + pred.ss8[i] + ")";
    return text;
  }

  let hovered = [];
  function onHover(event) {
    const cell = event.target.closest("[data-i]");
    const section = event.target.closest("[data-record]");
    if (!cell || !section || !last) return;
    const pred = last.answer.predictions[Number(section.dataset.record)];
    const i = Number(cell.dataset.i);
    readout.textContent = pred.id + " " + describe(pred, i, last.answer.states);
    for (const h of hovered) h.classList.remove("hover");
    hovered = Array.from(cell.closest(".lines").querySelectorAll('[data-i="' + i + '"]'));
    for (const h of hovered) h.classList.add("hover");
  }

  async function download(format) {
    if (!last) return;
    clearError();
    try {
      const blob = format === "json"
        ? new Blob([last.jsonText], {type: "application/json"})
        : await (await post(last.text, format)).blob();
      const link = el("a");
      link.href = URL.createObjectURL(blob);
      link.download = "sspred-prediction." + format;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (e) {
      showError(e.message);
    }
  }

  async function loadFile() {
    const file = $("file").files[0];
    if (!file) return;
    clearError();
    const limit = window.sspredLimits ? window.sspredLimits.max_request_bytes : Infinity;
    if (file.size > limit) {
      showError("The file " + file.name + " is " + file.size.toLocaleString() + " bytes; this server accepts at most " +
        limit.toLocaleString() + " bytes at once. Split it into smaller files.");
      return;
    }
    input.value = await file.text();
    $("file").value = "";
  }

  async function loadInfo() {
    try {
      const info = await (await fetch("/api/info")).json();
      window.sspredLimits = info.limits;
      // .ss2 and .horiz hold PSIPRED's 3 states: an 8-state model's answer downloads as JSON only.
      for (const b of document.querySelectorAll(".downloads button")) {
        if (b.dataset.format !== "json" && info.model.states.length !== 3) b.hidden = true;
      }
      $("model-info").textContent = "Model: " + info.model.name + " (" + info.model.states.length +
        " states, window " + info.model.window + "), sspred " + info.model.sspred_version + ".";
      $("limits").textContent = "Up to " + info.limits.max_sequences.toLocaleString() + " sequences and " +
        info.limits.max_residues.toLocaleString() + " residues per prediction.";
    } catch (e) { /* the page still works without it */ }
  }

  form.addEventListener("submit", predict);
  $("example").addEventListener("click", () => { input.value = EXAMPLE; clearError(); });
  $("clear").addEventListener("click", () => { input.value = ""; clearError(); clearResults(); });
  $("file").addEventListener("change", loadFile);
  records.addEventListener("mouseover", onHover);
  for (const b of document.querySelectorAll(".downloads button")) {
    b.addEventListener("click", () => download(b.dataset.format));
  }
  loadInfo();
})();
