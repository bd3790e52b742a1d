// The walkthrough's only script: it reads the steps written by chainrule/show/walkthrough.py and shows
// step k by applying steps 1..k to the bare graph. It changes text with textContent and classes with
// classList only; user text never becomes markup.
"use strict";
(function () {
  const steps = JSON.parse(document.getElementById("data").textContent).steps;
  const last = steps.length - 1;
  const nodes = new Map(); // name -> {g, value: <text>, grad: <text>}
  for (const g of document.querySelectorAll("#graph g[data-node]")) {
    nodes.set(g.dataset.node, { g, value: g.querySelector("text.value"), grad: g.querySelector("text.grad") });
  }
  const lit = Array.from(document.querySelectorAll("#graph [data-of]")); // op nodes and edges
  const svg = document.querySelector("#graph svg");
  // Fit the graph to the window, but never below 55% of the size dot laid it out at: a big graph scrolls.
  if (svg) svg.style.minWidth = Math.round(0.55 * svg.width.baseVal.value) + "px";
  const $ = (id) => document.getElementById(id);
  let current = 0;
  let timer = null;

  // A number the page knows: the attribute holds the engine's float as Python's repr, and so does the text.
  function setNumber(node, attribute, text, word, repr) {
    if (repr === undefined) {
      node.g.removeAttribute(attribute);
      text.textContent = word + " ?";
    } else {
      node.g.setAttribute(attribute, repr);
      text.textContent = word + " " + repr;
    }
  }

  function show(k) {
    current = Math.max(0, Math.min(last, k));
    const values = new Map();
    const grads = new Map();
    for (let i = 1; i <= current; i++) {
      for (const [name, repr] of steps[i].values || []) values.set(name, repr);
      for (const [name, repr] of steps[i].grads || []) grads.set(name, repr);
    }
    const step = steps[current];
    const parents = new Set(step.parents);
    for (const [name, node] of nodes) {
      setNumber(node, "data-value", node.value, "data", values.get(name));
      if (node.grad) setNumber(node, "data-grad", node.grad, "grad", grads.get(name));
      node.g.classList.toggle("focus", name === step.focus);
      node.g.classList.toggle("parent", parents.has(name));
    }
    for (const element of lit) element.classList.toggle("lit", element.dataset.of === step.focus);
    $("counter").textContent = "step " + current + " of " + last;
    $("caption").textContent = step.caption;
    $("lines").textContent = step.lines.join("\n");
    $("home").disabled = $("previous").disabled = current === 0;
    $("end").disabled = $("next").disabled = current === last;
    const focus = nodes.get(step.focus);
    if (focus) focus.g.scrollIntoView({ block: "nearest", inline: "nearest" });
    if (current === last) pause();
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

  $("home").addEventListener("click", () => show(0));
  $("previous").addEventListener("click", () => show(current - 1));
  $("next").addEventListener("click", () => show(current + 1));
  $("end").addEventListener("click", () => show(last));
  $("play").addEventListener("click", () => (timer ? pause() : play()));
  document.addEventListener("keydown", (event) => {
    const moves = { ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: last };
    if (event.key in moves) {
      pause();
      show(moves[event.key]);
    } else if (event.key === " " && event.target.tagName !== "BUTTON") {
      timer ? pause() : play();
    } else {
      return;
    }
    event.preventDefault();
  });
  show(0);
})();
