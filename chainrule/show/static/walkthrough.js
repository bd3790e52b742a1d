// The walkthrough's only script: it reads the steps written by chainrule/show/walkthrough.py and shows
// step k by applying steps 1..k to the bare graph. It changes text with textContent and classes with
// classList only; user text never becomes markup.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("data").textContent);
  const steps = data.steps;
  const last = steps.length - 1;
  const nodes = new Map(); // name -> {g, value: <text>, grad: <text>, title: <title>}
  for (const g of document.querySelectorAll("#graph g[data-node]")) {
    const name = g.dataset.node;
    nodes.set(name, { g, value: g.querySelector("text.value"), grad: g.querySelector("text.grad"), title: g.querySelector("title") });
    g.setAttribute("tabindex", "0"); // a click, or Enter, shows the node's exact numbers
    g.addEventListener("click", () => select(name));
    g.addEventListener("keydown", (event) => event.key === "Enter" && select(name));
  }
  const lit = Array.from(document.querySelectorAll("#graph [data-of]")); // op nodes and edges
  const $ = (id) => document.getElementById(id);
  const graph = $("graph");
  const svg = document.querySelector("#graph svg");
  const natural = svg ? { width: svg.width.baseVal.value, height: svg.height.baseVal.value } : null;
  let current = 0;
  let timer = null;
  let selected = null;
  let zoom = null; // null: fit the window; else a scale chosen with + and -
  let known = { values: new Map(), grads: new Map() };

  // A number the page knows: the attribute holds the engine's float as Python's repr, the text explain's
  // six digits.
  function setNumber(node, attribute, text, word, pair) {
    if (pair === undefined) {
      node.g.removeAttribute(attribute);
      text.textContent = word + " ?";
    } else {
      node.g.setAttribute(attribute, pair[0]);
      text.textContent = word + " " + pair[1];
    }
  }

  function exact(name) {
    const value = known.values.get(name);
    const grad = known.grads.get(name);
    return name + "   data " + (value ? value[0] : "?") + "   grad " + (grad ? grad[0] : "?");
  }

  function select(name) {
    selected = name;
    $("detail").textContent = name === null ? "Click a node for its exact value and gradient." : exact(name);
  }

  function show(k) {
    current = Math.max(0, Math.min(last, k));
    known = { values: new Map(), grads: new Map() };
    for (let i = 1; i <= current; i++) {
      for (const [name, repr, short] of steps[i].values || []) known.values.set(name, [repr, short]);
      for (const [name, repr, short] of steps[i].grads || []) known.grads.set(name, [repr, short]);
    }
    const step = steps[current];
    const parents = new Set(step.parents);
    for (const [name, node] of nodes) {
      setNumber(node, "data-value", node.value, "data", known.values.get(name));
      if (node.grad) setNumber(node, "data-grad", node.grad, "grad", known.grads.get(name));
      if (node.title) node.title.textContent = exact(name);
      node.g.classList.toggle("focus", name === step.focus);
      node.g.classList.toggle("parent", parents.has(name));
    }
    for (const element of lit) element.classList.toggle("lit", element.dataset.of === step.focus);
    $("counter").textContent = "step " + current + " of " + last;
    $("caption").textContent = step.caption;
    $("lines").textContent = step.lines.join("\n");
    select(selected);
    $("home").disabled = $("previous").disabled = current === 0;
    $("end").disabled = $("next").disabled = current === last;
    reveal(nodes.get(step.focus || (current === 0 ? data.root : null))); // the output first
    if (current === last) pause();
  }

  // Bring a node into the graph's view, scrolling the graph only (never the page around it).
  function reveal(node) {
    if (!node) return;
    const box = node.g.getBoundingClientRect();
    const view = graph.getBoundingClientRect();
    if (box.left < view.left) graph.scrollLeft -= view.left - box.left + 24;
    else if (box.right > view.right) graph.scrollLeft += box.right - view.right + 24;
    if (box.top < view.top) graph.scrollTop -= view.top - box.top + 24;
    else if (box.bottom > view.bottom) graph.scrollTop += box.bottom - view.bottom + 24;
  }

  // The panel keeps the height of its tallest step, so the graph below it never moves.
  function fixPanel() {
    const panel = $("panel");
    panel.style.height = "";
    let tallest = 0;
    for (const step of steps) {
      $("caption").textContent = step.caption;
      $("lines").textContent = step.lines.join("\n");
      tallest = Math.max(tallest, panel.getBoundingClientRect().height);
    }
    panel.style.height = Math.ceil(tallest) + "px";
  }

  // Fit: the whole graph in the window, but never below 0.75 of dot's size (12px text), where it scrolls
  // instead; never above 1.5x. + and - zoom from the current scale.
  function scale() {
    if (!natural) return 1;
    if (zoom !== null) return zoom;
    const room = { width: graph.clientWidth - 32, height: window.innerHeight - graph.getBoundingClientRect().top - 16 };
    const fit = Math.min(room.width / natural.width, room.height / natural.height);
    return Math.max(0.75, Math.min(1.5, fit));
  }

  function layout() {
    fixPanel();
    if (natural) {
      const s = scale();
      svg.style.width = Math.round(natural.width * s) + "px";
      svg.style.height = Math.round(natural.height * s) + "px";
      graph.dataset.scale = s.toFixed(3);
    }
    show(current);
  }

  function zoomBy(factor) {
    zoom = Math.max(0.25, Math.min(4, scale() * factor));
    layout();
  }

  function play() {
    if (current === last) show(0);
    timer = setInterval(() => show(current + 1), 900);
    $("play").textContent = "❚❚ Pause";
  }

  function pause() {
    clearInterval(timer);
    timer = null;
    $("play").textContent = "▶ Play";
  }

  // Drag the graph to pan it, when it is larger than its window.
  let drag = null;
  graph.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || event.target.closest("g[data-node]")) return;
    drag = { x: event.clientX, y: event.clientY, left: graph.scrollLeft, top: graph.scrollTop };
    graph.classList.add("dragging");
  });
  window.addEventListener("pointermove", (event) => {
    if (!drag) return;
    graph.scrollLeft = drag.left - (event.clientX - drag.x);
    graph.scrollTop = drag.top - (event.clientY - drag.y);
  });
  window.addEventListener("pointerup", () => {
    drag = null;
    graph.classList.remove("dragging");
  });

  $("home").addEventListener("click", () => show(0));
  $("previous").addEventListener("click", () => show(current - 1));
  $("next").addEventListener("click", () => show(current + 1));
  $("end").addEventListener("click", () => show(last));
  $("play").addEventListener("click", () => (timer ? pause() : play()));
  $("zoom-in").addEventListener("click", () => zoomBy(1.25));
  $("zoom-out").addEventListener("click", () => zoomBy(0.8));
  $("fit").addEventListener("click", () => {
    zoom = null;
    layout();
  });
  window.addEventListener("resize", layout);
  document.addEventListener("keydown", (event) => {
    const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: last };
    if (event.key in moves) {
      pause();
      show(moves[event.key]);
    } else if (event.key === " " && event.target.tagName !== "BUTTON") {
      timer ? pause() : play();
    } else if (event.key === "+" || event.key === "=") {
      zoomBy(1.25);
    } else if (event.key === "-") {
      zoomBy(0.8);
    } else if (event.key === "0") {
      zoom = null;
      layout();
    } else {
      return;
    }
    event.preventDefault();
  });
  layout();
})();
