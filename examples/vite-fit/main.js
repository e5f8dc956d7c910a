// Fits the model of model.ad to noisy data by gradient descent (Adam), drawing the data, the fit
// and the falling loss as it goes. `import … from './model.ad'` works through the adc Vite plugin
// (vite.config.js), and editing model.ad while `vite` runs restarts the fit without a page reload.
import * as initialModel from './model.ad';

const truth = { a: 2, k: 1.3, c: 0.4 };
const start = { a: 0.5, k: 0.3, c: 0 };
const steps = 500;
const stepsPerFrame = 5;
const names = Object.keys(truth);

/** A small seeded random generator (mulberry32), so every run fits the same data. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 40 points of the true curve with Gaussian noise (standard deviation 0.03). */
function makeData(model) {
  const next = random(7);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const xs = Array.from({ length: 40 }, (_, i) => (4 * i) / 39);
  const ys = xs.map((x) => model.curve(truth.a, truth.k, truth.c, x) + 0.03 * gauss());
  return { xs, ys };
}

/** The mean squared error over the data and its gradient, from the compiled sqerrGrad. */
function lossAndGradient(model, p, data) {
  const n = data.xs.length;
  let loss = 0;
  const gradient = { a: 0, k: 0, c: 0 };
  for (let i = 0; i < n; i++) {
    const r = model.sqerrGrad(p.a, p.k, p.c, data.xs[i], data.ys[i]);
    loss += r.value / n;
    for (const q of names) gradient[q] += r.gradient[q] / n;
  }
  return { loss, gradient };
}

/** Adam: gradient descent with per-parameter step sizes from running moments of the gradient. */
function adam(rate = 0.03, beta1 = 0.9, beta2 = 0.999) {
  const m = { a: 0, k: 0, c: 0 };
  const v = { a: 0, k: 0, c: 0 };
  let t = 0;
  return (p, g) => {
    t++;
    for (const q of names) {
      m[q] = beta1 * m[q] + (1 - beta1) * g[q];
      v[q] = beta2 * v[q] + (1 - beta2) * g[q] * g[q];
      p[q] -= (rate * (m[q] / (1 - beta1 ** t))) / (Math.sqrt(v[q] / (1 - beta2 ** t)) + 1e-8);
    }
  };
}

const fitCanvas = document.getElementById('fit');
const lossCanvas = document.getElementById('loss');
const status = document.getElementById('status');
const table = document.querySelector('#params tbody');

function drawFit(model, data, p) {
  const g = fitCanvas.getContext('2d');
  const { width, height } = fitCanvas;
  const pad = 36;
  const [xMin, xMax, yMin, yMax] = [0, 4, 0, 2.8];
  const X = (x) => pad + ((x - xMin) / (xMax - xMin)) * (width - 2 * pad);
  const Y = (y) => height - pad - ((y - yMin) / (yMax - yMin)) * (height - 2 * pad);
  g.clearRect(0, 0, width, height);
  axes(g, pad, width, height, `x from ${xMin} to ${xMax}`, `y from ${yMin} to ${yMax}`);
  const curve = (a, k, c, color, lineWidth) => {
    g.strokeStyle = color;
    g.lineWidth = lineWidth;
    g.beginPath();
    for (let i = 0; i <= 200; i++) {
      const x = xMin + ((xMax - xMin) * i) / 200;
      const y = model.curve(a, k, c, x);
      if (i === 0) g.moveTo(X(x), Y(y));
      else g.lineTo(X(x), Y(y));
    }
    g.stroke();
  };
  curve(truth.a, truth.k, truth.c, '#b9c0ca', 2);
  g.fillStyle = '#e0662a';
  for (let i = 0; i < data.xs.length; i++) {
    g.beginPath();
    g.arc(X(data.xs[i]), Y(data.ys[i]), 3.2, 0, 2 * Math.PI);
    g.fill();
  }
  curve(p.a, p.k, p.c, '#1f6fd1', 2.5);
}

function drawLoss(losses) {
  const g = lossCanvas.getContext('2d');
  const { width, height } = lossCanvas;
  const pad = 36;
  g.clearRect(0, 0, width, height);
  const lo = Math.log10(Math.min(...losses));
  const hi = Math.log10(Math.max(...losses));
  const span = Math.max(hi - lo, 1e-9);
  axes(g, pad, width, height, `step 0 to ${steps}`, `10^${lo.toFixed(1)} to 10^${hi.toFixed(1)}`);
  g.strokeStyle = '#1f6fd1';
  g.lineWidth = 2;
  g.beginPath();
  losses.forEach((loss, i) => {
    const x = pad + (i / steps) * (width - 2 * pad);
    const y = height - pad - ((Math.log10(loss) - lo) / span) * (height - 2 * pad);
    if (i === 0) g.moveTo(x, y);
    else g.lineTo(x, y);
  });
  g.stroke();
}

function axes(g, pad, width, height, xLabel, yLabel) {
  g.strokeStyle = '#8a94a3';
  g.lineWidth = 1;
  g.beginPath();
  g.moveTo(pad, pad / 2);
  g.lineTo(pad, height - pad);
  g.lineTo(width - pad / 2, height - pad);
  g.stroke();
  g.fillStyle = '#4a5563';
  g.font = '12px system-ui, sans-serif';
  g.fillText(xLabel, pad, height - pad / 3);
  g.save();
  g.translate(pad / 2.5, height - pad);
  g.rotate(-Math.PI / 2);
  g.fillText(yLabel, 0, 0);
  g.restore();
}

function show(p, losses, step) {
  const loss = losses[losses.length - 1];
  status.textContent = `step ${step} of ${steps} · loss ${loss.toExponential(3)}${step === steps ? ' · done' : ''}`;
  status.dataset.step = String(step);
  status.dataset.loss = String(loss);
  status.dataset.firstLoss = String(losses[0]);
  status.dataset.done = String(step === steps);
  table.innerHTML = names.map((q) => `<tr data-name="${q}" data-value="${p[q]}"><td>${q}</td><td>${p[q].toFixed(4)}</td><td>${truth[q]}</td></tr>`).join('');
}

let runs = 0;
/** Runs one fit with this model, a few steps per animation frame; returns a function that stops it. */
function run(model) {
  runs++;
  document.body.dataset.runs = String(runs);
  const data = makeData(model);
  const p = { ...start };
  const step = adam();
  const losses = [lossAndGradient(model, p, data).loss];
  let done = 0;
  let frame = 0;
  const tick = () => {
    for (let i = 0; i < stepsPerFrame && done < steps; i++, done++) {
      step(p, lossAndGradient(model, p, data).gradient);
      losses.push(lossAndGradient(model, p, data).loss);
    }
    drawFit(model, data, p);
    drawLoss(losses);
    show(p, losses, done);
    if (done < steps) frame = requestAnimationFrame(tick);
  };
  tick();
  return () => cancelAnimationFrame(frame);
}

let model = initialModel;
let stop = run(model);
document.getElementById('restart').addEventListener('click', () => {
  stop();
  stop = run(model);
});

// Hot module replacement: when model.ad changes, Vite recompiles it and the fit restarts with the
// new model, without reloading the page.
if (import.meta.hot) {
  import.meta.hot.accept('./model.ad', (next) => {
    if (!next) return;
    model = next;
    stop();
    stop = run(model);
  });
}
