// The training page's only script: a slider over the recorded steps of a run written by
// chainrule/demos/training_page.py. The moons picture is the network's score at every pixel, computed here
// from the recorded parameters in the engine's order of operations; xor shows its four predictions.
// Text goes in with textContent only.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("data").textContent);
  const positions = data.positions;
  const losses = data.losses.map(([step, loss]) => [step, Number(loss)]);
  const slider = document.getElementById("slider");
  const $ = (id) => document.getElementById(id);
  const COLORS = { "-1": "#e8822a", "1": "#2f6db5" }; // label -1 orange, +1 blue, as in the --plot picture

  // The network's score for one point: each neuron is b + w0·x0 + w1·x1 + …, then its activation.
  function score(weights, point) {
    let k = 0;
    let input = point;
    for (const [nin, nout, activation] of data.layers) {
      const out = [];
      for (let j = 0; j < nout; j++) {
        let act = weights[k + nin];
        for (let i = 0; i < nin; i++) act = act + weights[k + i] * input[i];
        k += nin + 1;
        out.push(activation === "relu" ? (act <= 0 ? 0 : act) : activation === "tanh" ? Math.tanh(act) : act);
      }
      input = out;
    }
    return input[0];
  }

  // The picture's frame: the data's extent with a margin of 0.5, as the --plot picture has it.
  function frame(canvas, margin) {
    const xs = data.points.map((p) => p[0]);
    const ys = data.points.map((p) => p[1]);
    const x0 = Math.min(...xs) - margin, x1 = Math.max(...xs) + margin;
    const y0 = Math.min(...ys) - margin, y1 = Math.max(...ys) + margin;
    return {
      px: (x) => ((x - x0) / (x1 - x0)) * canvas.width,
      py: (y) => canvas.height - ((y - y0) / (y1 - y0)) * canvas.height,
      x: (px) => x0 + (px / canvas.width) * (x1 - x0),
      y: (py) => y1 - (py / canvas.height) * (y1 - y0),
    };
  }

  function drawMoons(position) {
    const canvas = $("picture");
    const context = canvas.getContext("2d");
    const weights = position.weights.map(Number);
    const f = frame(canvas, 0.5);
    const cell = 4;
    context.clearRect(0, 0, canvas.width, canvas.height);
    for (let py = 0; py < canvas.height; py += cell) {
      for (let px = 0; px < canvas.width; px += cell) {
        const s = score(weights, [f.x(px + cell / 2), f.y(py + cell / 2)]);
        const strength = Math.min(1, Math.abs(s)) * 0.45 + 0.15;
        context.fillStyle = s > 0 ? `rgba(47,109,181,${strength})` : `rgba(232,130,42,${strength})`;
        context.fillRect(px, py, cell, cell);
      }
    }
    let right = 0;
    data.points.forEach((point, i) => {
      const label = data.labels[i];
      const correct = score(weights, point) > 0 === label > 0;
      right += correct;
      context.beginPath();
      context.arc(f.px(point[0]), f.py(point[1]), 5, 0, 2 * Math.PI);
      context.fillStyle = correct ? COLORS[label] : "#fff";
      context.fill();
      context.lineWidth = correct ? 1 : 2.5;
      context.strokeStyle = correct ? "#000" : COLORS[label];
      context.stroke();
    });
    $("picture-caption").textContent =
      `decision boundary at step ${position.step}: blue scores > 0, orange ≤ 0; ` +
      `${right} of ${data.points.length} points on their side (hollow: the wrong side)`;
  }

  function drawXor(position) {
    const canvas = $("picture");
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, canvas.width, canvas.height);
    context.font = "15px ui-monospace, Menlo, Consolas, monospace";
    context.textAlign = "center";
    data.points.forEach((point, i) => {
      const s = position.scores[i];
      const x = 70 + point[0] * 240, y = 250 - point[1] * 200;
      const strength = Math.min(1, Math.abs(s));
      context.fillStyle = s > 0 ? `rgba(47,109,181,${strength})` : `rgba(232,130,42,${strength})`;
      context.fillRect(x, y, 100, 100);
      context.strokeStyle = "#333";
      context.strokeRect(x, y, 100, 100);
      context.fillStyle = "#000";
      context.fillText(`[${point[0]},${point[1]}]`, x + 50, y + 42);
      context.fillText(position.shown[i], x + 50, y + 66);
    });
    $("picture-caption").textContent =
      `the four predictions at step ${position.step}: blue > 0 (class 1), orange ≤ 0 (class 0); ` +
      position.accuracy;
  }

  function drawCurve(step) {
    const canvas = $("curve");
    const context = canvas.getContext("2d");
    const left = 64, right = 24, top = 12, bottom = 40;
    const w = canvas.width - left - right, h = canvas.height - top - bottom;
    const finite = losses.filter(([, loss]) => Number.isFinite(loss));
    const logScale = finite.length > 0 && finite.every(([, loss]) => loss > 0);
    const y = (loss) => (logScale ? Math.log10(loss) : loss);
    const ys = finite.map(([, loss]) => y(loss));
    const low = Math.min(...ys), high = Math.max(...ys), span = high - low || 1;
    const first = losses[0][0], last = losses[losses.length - 1][0], steps = last - first || 1;
    const px = (s) => left + ((s - first) / steps) * w;
    const py = (loss) => top + h - ((y(loss) - low) / span) * h;
    context.clearRect(0, 0, canvas.width, canvas.height);
    context.strokeStyle = "#888";
    context.strokeRect(left, top, w, h);
    context.fillStyle = "#333";
    context.font = "12px system-ui, sans-serif";
    context.textAlign = "right";
    for (const value of [low, (low + high) / 2, high]) {
      const shown = logScale ? 10 ** value : value;
      context.fillText(shown.toPrecision(3), left - 6, top + h - ((value - low) / span) * h + 4);
    }
    context.textAlign = "center";
    context.fillText(String(first), left, top + h + 18);
    context.fillText(String(last), left + w, top + h + 18);
    context.fillText(logScale ? "step (loss on a log scale)" : "step", left + w / 2, top + h + 34);
    context.beginPath();
    context.strokeStyle = "#2f6db5";
    context.lineWidth = 1.5;
    let drawing = false;
    for (const [s, loss] of losses) {
      if (!Number.isFinite(loss)) {
        drawing = false;
        continue;
      }
      drawing ? context.lineTo(px(s), py(loss)) : context.moveTo(px(s), py(loss));
      drawing = true;
    }
    context.stroke();
    const here = losses.find(([s]) => s === step);
    context.strokeStyle = "#c0392b";
    context.lineWidth = 1;
    context.beginPath();
    context.moveTo(px(step), top);
    context.lineTo(px(step), top + h);
    context.stroke();
    if (here && Number.isFinite(here[1])) {
      context.beginPath();
      context.arc(px(step), py(here[1]), 5, 0, 2 * Math.PI);
      context.fillStyle = "#c0392b";
      context.fill();
    }
  }

  function show(index) {
    const position = positions[index];
    slider.value = String(index);
    document.body.dataset.step = String(position.step);
    $("counter").textContent = `step ${position.step} (${index + 1} of ${positions.length} recorded)`;
    const lines = [position.line];
    if (data.kind === "xor") lines.push(...position.predictions, position.accuracy);
    if (data.kind === "moons" && index === positions.length - 1) lines.push(data.result);
    $("log").textContent = lines.join("\n");
    data.kind === "moons" ? drawMoons(position) : drawXor(position);
    drawCurve(position.step);
  }

  slider.addEventListener("input", () => show(Number(slider.value)));
  window.chainrulePage = { score, show }; // for the tests: the page's own scoring, and a way to step
  if (positions.length) show(0);
})();
