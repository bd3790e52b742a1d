// The playground page: it hands what the learner types to Python in a worker (worker.js) and shows what
// comes back. The walk is chainrule's walkthrough page itself, in a sandboxed frame; the training pictures
// are drawn from the scores and losses Python sends. Text goes in with textContent only.
"use strict";
const $ = (id) => document.getElementById(id);
const body = document.body;
const base = new URL(".", location.href).href;
let worker = null;
let workerText = null;
let loadStarted = 0;
let nextId = 1;
let pendingWalk = null; // {id, started, timer}
let training = null; // {id, points, labels, frame, losses: [[step, repr]], accuracy}

// --- the worker ---------------------------------------------------------------------------------------

// A worker started from a blob: URL keeps this page's Content-Security-Policy (one from a URL of this
// site would have none, as the site sends no CSP header): so the learner's code is held to it too.
async function startWorker() {
  loadStarted = performance.now();
  body.dataset.state = "loading";
  if (workerText === null) workerText = await (await fetch("worker.js")).text();
  const url = URL.createObjectURL(new Blob([workerText], { type: "text/javascript" }));
  worker = new Worker(url, { type: "module" });
  worker.onmessage = ({ data }) => handlers[data.kind](data);
  worker.onerror = (event) => showStatus("Python could not start: " + (event.message || "unknown error"));
  worker.postMessage({ kind: "start", base, wheel: body.dataset.wheel });
}

function restartWorker(why) {
  worker.terminate();
  if (pendingWalk) finishWalk();
  if (training) finishTraining("stopped");
  showStatus(why + " Restarting Python…");
  $("run").disabled = $("train-button").disabled = true;
  startWorker();
}

const handlers = {
  ready({ seconds, info }) {
    const { python, chainrule } = JSON.parse(info);
    const total = (performance.now() - loadStarted) / 1000;
    body.dataset.state = "ready";
    body.dataset.loadSeconds = total.toFixed(2);
    showStatus(
      `Ready: Python ${python} and chainrule ${chainrule}, loaded in ${total.toFixed(1)} s ` +
        `(Python itself ${seconds.toFixed(1)} s). What you type runs here, in this tab.`,
    );
    $("run").disabled = $("train-button").disabled = false;
  },
  explained({ id, result }) {
    if (!pendingWalk || pendingWalk.id !== id) return;
    const seconds = (performance.now() - pendingWalk.started) / 1000;
    finishWalk();
    showWalk(JSON.parse(result), seconds);
  },
  "train-start"({ id, started, code }) {
    if (!training || training.id !== id) return;
    $("train-code").textContent = code;
    const data = JSON.parse(started);
    if (!data.ok) {
      showText("train-error", data.error);
      return finishTraining("refused");
    }
    Object.assign(training, data);
    $("train-log").textContent = `${data.network}: ${data.parameters} parameters. Tracing the first step…`;
    drawPicture(null, []);
  },
  "train-step"({ id, report }) {
    if (!training || training.id !== id) return;
    const data = JSON.parse(report);
    for (const [step, loss, accuracy] of data.steps) {
      training.losses.push([step, loss]);
      training.accuracy = accuracy;
    }
    const last = training.losses[training.losses.length - 1];
    const section = $("train");
    section.dataset.step = last[0];
    section.dataset.loss = last[1];
    section.dataset.accuracy = training.accuracy;
    $("curve").dataset.losses = JSON.stringify(training.losses.map(([, loss]) => loss));
    drawPicture(data.grid, data.wrong);
    drawCurve();
    const lines = [
      `step ${last[0]}   loss ${Number(last[1]).toPrecision(6)}   ` +
        `accuracy ${(100 * Number(training.accuracy)).toFixed(1)}%`,
    ];
    $("train-log").textContent = lines.concat(data.final || []).join("\n");
  },
  "train-end"({ id, stopped }) {
    if (training && training.id === id) finishTraining(stopped ? "stopped" : "done");
  },
  refused({ url, directive }) {
    const refused = $("refused");
    refused.dataset.urls = JSON.stringify([...JSON.parse(refused.dataset.urls || "[]"), url]);
    showText(
      "refused",
      `The page's policy (${directive}) refused to send a request to ${url}: nothing left this tab.`,
    );
  },
  failed({ id, error }) {
    const message = "Something went wrong inside the playground (not in what you typed): " + error;
    if (pendingWalk && pendingWalk.id === id) {
      finishWalk();
      showText("error", message);
    } else if (training && training.id === id) {
      showText("train-error", message);
      finishTraining("failed");
    } else showStatus(message);
  },
};

function showStatus(text) {
  $("status").textContent = text;
}

function showText(id, text) {
  $(id).textContent = text;
  $(id).hidden = !text;
}

// --- tab 1: the walk ---------------------------------------------------------------------------------

function mode() {
  return document.querySelector('input[name="mode"]:checked').value;
}

function runWalk() {
  if (pendingWalk || body.dataset.state !== "ready") return;
  const id = nextId++;
  // a run that is still going after a second can be stopped (the learner's loop may never end)
  const timer = setTimeout(() => ($("halt").hidden = false), 1000);
  pendingWalk = { id, started: performance.now(), timer };
  showText("refused", "");
  $("run").disabled = true;
  $("ran").textContent = "running…";
  worker.postMessage({
    kind: "explain",
    id,
    mode: mode(),
    text: mode() === "python" ? $("code").value : $("expression").value,
    at: $("at").value,
  });
}

function finishWalk() {
  clearTimeout(pendingWalk.timer);
  pendingWalk = null;
  $("halt").hidden = true;
  $("run").disabled = body.dataset.state !== "ready";
  $("ran").textContent = "";
}

function showWalk(result, seconds) {
  const walk = $("walk");
  walk.dataset.runs = Number(walk.dataset.runs || 0) + 1;
  walk.dataset.seconds = seconds.toFixed(3);
  showText("printed", result.printed || "");
  if (!result.ok) {
    showText("error", result.error);
    showText("gradients", "");
    $("frame-holder").replaceChildren();
    walk.dataset.result = "error";
    return;
  }
  showText("error", "");
  const width = Math.max(0, ...result.gradients.map(([name]) => name.length));
  const lines = result.gradients.map(([name, grad]) => `∂${result.root}/∂${name.padEnd(width)} = ${grad}`);
  showText("gradients", [`Gradients of ${result.root}:`, ...lines].join("\n"));
  $("ran").textContent = `${result.nodes} nodes, walked in ${Math.round(1000 * seconds)} ms`;
  // The walkthrough page in a frame with scripts and nothing else (an opaque origin: no access to this
  // page); it inherits this page's policy, which lists the walkthrough script's and style's hashes.
  const frame = document.createElement("iframe");
  frame.setAttribute("sandbox", "allow-scripts");
  frame.title = result.title;
  frame.srcdoc = result.page;
  frame.style.height = result.height + "px";
  $("frame-holder").replaceChildren(frame);
  walk.dataset.result = "walk";
}

// --- tab 2: training -----------------------------------------------------------------------------------

const DEFAULTS = {
  xor: { hidden: "4", lr: "0.1", steps: "2000" },
  moons: { hidden: "16, 16", lr: "1.0", steps: "100" },
};

function startTraining() {
  if (training || body.dataset.state !== "ready") return;
  const form = {
    problem: $("problem").value,
    hidden: $("hidden").value,
    lr: $("lr").value,
    steps: $("steps").value,
    seed: $("seed").value,
    compiled: $("compiled").checked,
  };
  training = { id: nextId++, losses: [], accuracy: null, steps: Number(form.steps) };
  $("train").dataset.state = "training";
  for (const key of ["step", "loss", "accuracy"]) delete $("train").dataset[key];
  delete $("curve").dataset.losses;
  showText("train-error", "");
  $("train-log").textContent = "";
  $("train-button").disabled = true;
  $("stop").disabled = false;
  clearCanvas($("boundary"));
  clearCanvas($("curve"));
  worker.postMessage({ kind: "train", id: training.id, form });
}

function finishTraining(state) {
  training = null;
  $("train").dataset.state = state;
  $("train-button").disabled = body.dataset.state !== "ready";
  $("stop").disabled = true;
}

function clearCanvas(canvas) {
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
}

const BLUE = [47, 109, 181]; // label +1 and scores > 0, as on the training pages
const ORANGE = [232, 130, 42]; // label -1 and scores <= 0

// The scores on a grid of cells, drawn on a canvas of one pixel per cell and scaled up smoothly; then the
// points, hollow where the network puts them on the wrong side.
function drawPicture(grid, wrong) {
  const canvas = $("boundary");
  const context = canvas.getContext("2d");
  const [x0, x1, y0, y1] = training.frame;
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (grid) {
    const side = Math.round(Math.sqrt(grid.length));
    const cells = new OffscreenCanvas(side, side);
    const image = new ImageData(side, side);
    grid.forEach((value, i) => {
      const score = Number(value);
      const [r, g, b] = score > 0 ? BLUE : ORANGE;
      image.data.set([r, g, b, 255 * (Math.min(1, Math.abs(score)) * 0.45 + 0.15)], 4 * i);
    });
    cells.getContext("2d").putImageData(image, 0, 0);
    context.imageSmoothingEnabled = true;
    context.drawImage(cells, 0, 0, canvas.width, canvas.height);
  }
  const hollow = new Set(wrong);
  training.points.forEach(([x, y], i) => {
    const colour = `rgb(${(training.labels[i] > 0 ? BLUE : ORANGE).join(",")})`;
    context.beginPath();
    context.arc(
      ((x - x0) / (x1 - x0)) * canvas.width,
      ((y1 - y) / (y1 - y0)) * canvas.height,
      5,
      0,
      2 * Math.PI,
    );
    context.fillStyle = hollow.has(i) ? "#fff" : colour;
    context.fill();
    context.lineWidth = hollow.has(i) ? 2.5 : 1;
    context.strokeStyle = hollow.has(i) ? colour : "#000";
    context.stroke();
  });
}

// The loss at every step so far, on a log scale.
function drawCurve() {
  const canvas = $("curve");
  const context = canvas.getContext("2d");
  const losses = training.losses
    .map(([step, loss]) => [step, Number(loss)])
    .filter(([, loss]) => loss > 0 && isFinite(loss));
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (losses.length < 2) return;
  const logs = losses.map(([, loss]) => Math.log10(loss));
  const low = Math.min(...logs);
  const high = Math.max(...logs, low + 1e-9);
  const steps = training.steps || losses[losses.length - 1][0];
  const left = 44,
    right = canvas.width - 8,
    top = 10,
    bottom = canvas.height - 22;
  context.strokeStyle = "#ccc";
  context.strokeRect(left, top, right - left, bottom - top);
  context.fillStyle = "#555";
  context.font = "11px system-ui, sans-serif";
  context.fillText(Number(10 ** high).toPrecision(2), 2, top + 8);
  context.fillText(Number(10 ** low).toPrecision(2), 2, bottom);
  context.fillText("loss (log scale) by step", left + 4, canvas.height - 6);
  context.fillText(String(steps), right - 28, canvas.height - 6);
  context.beginPath();
  losses.forEach(([step], i) => {
    const x = left + (step / Math.max(steps, 1)) * (right - left);
    const y = bottom - ((logs[i] - low) / (high - low)) * (bottom - top);
    i ? context.lineTo(x, y) : context.moveTo(x, y);
  });
  context.strokeStyle = "#a02c2c";
  context.lineWidth = 1.5;
  context.stroke();
}

// --- the controls --------------------------------------------------------------------------------------

for (const tab of document.querySelectorAll('[role="tab"]')) {
  tab.addEventListener("click", () => {
    for (const other of document.querySelectorAll('[role="tab"]')) {
      other.setAttribute("aria-selected", String(other === tab));
      $(other.getAttribute("aria-controls")).hidden = other !== tab;
    }
  });
}
for (const radio of document.querySelectorAll('input[name="mode"]')) {
  radio.addEventListener("change", () => {
    $("expression-input").hidden = mode() !== "expression";
    $("code-input").hidden = mode() !== "python";
  });
}
$("walk-form").addEventListener("submit", (event) => {
  event.preventDefault();
  runWalk();
});
$("walk-form").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    runWalk();
  }
});
$("halt").addEventListener("click", () => restartWorker("Stopped."));
$("problem").addEventListener("change", () => {
  for (const [key, value] of Object.entries(DEFAULTS[$("problem").value])) $(key).value = value;
});
$("train-form").addEventListener("submit", (event) => {
  event.preventDefault();
  startTraining();
});
$("stop").addEventListener("click", () => training && worker.postMessage({ kind: "stop", id: training.id }));
startWorker();
