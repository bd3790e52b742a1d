// The playground's worker: Python (Pyodide) with chainrule's wheel installed, and Graphviz compiled to
// WebAssembly for the layout. The page starts it from a blob: URL, so the page's Content-Security-Policy
// holds here too: the learner's code can reach no host but the page's own, and nothing can be evaluated
// from a string. A run that never ends is stopped by ending this worker (the page starts a new one).
"use strict";
let bridge = null; // playground/bridge.py, imported in Pyodide
let layout = null; // DOT text -> SVG text, by Graphviz's dot layout
const stopped = new Set(); // ids of training runs the page asked to stop

async function start({ base, wheel }) {
  const began = performance.now();
  const [{ loadPyodide }, { Graphviz }] = await Promise.all([
    import(base + "pyodide/pyodide.mjs"),
    import(base + "graphviz/index.js"),
  ]);
  const graphviz = Graphviz.load(); // compiles while Python starts
  const files = Promise.all(
    [wheel, "bridge.py", "train.py"].map((name) =>
      fetch(base + name).then((response) => {
        if (!response.ok) throw new Error(`${name}: ${response.status} ${response.statusText}`);
        return response.arrayBuffer();
      }),
    ),
  );
  const python = await loadPyodide({ indexURL: base + "pyodide/" });
  const [wheelBytes, bridgeBytes, trainBytes] = await files;
  const sitePackages = python.runPython("import sysconfig; sysconfig.get_paths()['purelib']");
  python.unpackArchive(wheelBytes, "wheel", { extractDir: sitePackages });
  python.FS.mkdirTree("/playground");
  python.FS.writeFile("/playground/bridge.py", new Uint8Array(bridgeBytes));
  python.FS.writeFile("/playground/train.py", new Uint8Array(trainBytes));
  python.runPython("import sys; sys.path.insert(0, '/playground')");
  bridge = python.pyimport("bridge");
  const laidOut = await graphviz;
  layout = (dot) => laidOut.layout(dot, "svg", "dot");
  postMessage({ kind: "ready", seconds: (performance.now() - began) / 1000, info: bridge.info() });
}

function explain({ id, mode, text, at }) {
  const result =
    mode === "python" ? bridge.explain_code(text, layout) : bridge.explain_expression(text, at, layout);
  postMessage({ kind: "explained", id, result });
}

async function train({ id, form }) {
  const trainer = bridge.Trainer(JSON.stringify(form));
  try {
    const started = trainer.start();
    postMessage({ kind: "train-start", id, started, code: bridge.shown_code(form.problem) });
    if (trainer.error) return;
    while (!stopped.has(id)) {
      const report = trainer.advance(0.12);
      postMessage({ kind: "train-step", id, report });
      if (trainer.done) break;
      await new Promise((resolve) => setTimeout(resolve, 0)); // let a stop, or a walk, in
    }
    postMessage({ kind: "train-end", id, stopped: stopped.has(id) });
  } finally {
    stopped.delete(id);
    trainer.destroy();
  }
}

// A failure here is the playground's, not the learner's (their errors come back as messages): its last
// line is enough to report, the traceback goes to the console.
function failed(id, error) {
  console.log(error);
  const lines = String(error && error.message ? error.message : error)
    .trim()
    .split("\n");
  postMessage({ kind: "failed", id, error: lines[lines.length - 1] });
}

// A request the policy refused (the learner's code may try): the page says so; nothing was sent.
self.addEventListener("securitypolicyviolation", (event) =>
  postMessage({ kind: "refused", url: event.blockedURI, directive: event.violatedDirective }),
);

self.onmessage = async ({ data }) => {
  try {
    if (data.kind === "start") await start(data);
    else if (data.kind === "explain") explain(data);
    else if (data.kind === "train") await train(data);
    else if (data.kind === "stop") stopped.add(data.id);
  } catch (error) {
    failed(data.id, error);
  }
};
