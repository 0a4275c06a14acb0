// Lecture 1's threshold explorer, computed in the browser (appended to canvas_figure.js).
//
// The kernel sends each class's scores once, sorted (float64). For a threshold t the browser
// counts the scores at or above t by binary search: TP and FP; FN and TN are the rest. The
// kernel's twin is course.widgets.metrics.operating_point (scikit-learn).

// the first index whose value is >= t in an ascending array
function lowerBound(sorted, t) {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < t) lo = mid + 1; else hi = mid;
  }
  return lo;
}

// the confusion counts of "predict positive when score >= t"
function thresholdCounts(negatives, positives, t) {
  const tp = positives.length - lowerBound(positives, t);
  const fp = negatives.length - lowerBound(negatives, t);
  return { tn: negatives.length - fp, fp, fn: positives.length - tp, tp };
}

// the operating point: rates, precision (1 when nothing is predicted positive), F1, accuracy
function operatingPoint(negatives, positives, t) {
  const c = thresholdCounts(negatives, positives, t);
  const tpr = positives.length ? c.tp / positives.length : 0;
  const fpr = negatives.length ? c.fp / negatives.length : 0;
  const precision = c.tp + c.fp ? c.tp / (c.tp + c.fp) : 1;
  const f1 = 2 * c.tp + c.fp + c.fn ? (2 * c.tp) / (2 * c.tp + c.fp + c.fn) : 0;
  const accuracy = (c.tp + c.tn) / (negatives.length + positives.length);
  return { ...c, tpr, fpr, precision, f1, accuracy };
}

registerLayer("threshold", (values, inputs) => {
  const [negatives, positives] = inputs.arrays;
  const t = Number(values.threshold);
  const p = operatingPoint(negatives, positives, t);
  const big = 0.6 * (negatives.length + positives.length);
  const counts = [p.tn, p.fp, p.fn, p.tp];
  const texts = ["TN", "FP", "FN", "TP"].map((name, i) => ({ text: `${name}\n${counts[i]}`, color: counts[i] > big ? "white" : "black" }));
  texts.push(`t = ${t.toFixed(2)}: acc ${p.accuracy.toFixed(2)}, F1 ${p.f1.toFixed(2)}`);
  return {
    arrays: [[t, 0, t, 1], [p.fpr, p.tpr], [p.tpr, p.precision], counts],
    texts,
  };
});

export { thresholdCounts, operatingPoint };
