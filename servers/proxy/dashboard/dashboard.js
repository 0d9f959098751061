// The ragwire proxy dashboard: polls /dashboard/api/series every 500 ms and
// draws it with uPlot (loaded before this script as the global `uPlot`).
// Plain browser JavaScript, no build step. Every chart exposes what it last
// drew in data-* attributes (points, last-t, ...), so tests can see it update.
(function () {
  // biome-ignore lint/suspicious/noRedundantUseStrict: a classic <script>, not a module
  'use strict';

  var POLL_MS = 500;
  var COLORS = ['#2f6fdf', '#d9480f', '#2b8a3e', '#9c36b5', '#e67700', '#0c8599', '#c2255c', '#5c940d', '#495057', '#1864ab'];

  var $ = function (id) {
    return document.getElementById(id);
  };

  // With API keys configured the dashboard's API needs one: open the page as
  // /dashboard#key=<key> (the fragment never leaves the browser), or answer the
  // prompt after a 401. The key is kept for this tab only.
  var KEY_ITEM = 'ragwire-dashboard-key';
  var fromHash = /(?:^#|&)key=([^&]+)/.exec(location.hash);
  if (fromHash) {
    sessionStorage.setItem(KEY_ITEM, decodeURIComponent(fromHash[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  function apiHeaders(extra) {
    var headers = extra || {};
    var key = sessionStorage.getItem(KEY_ITEM);
    if (key) headers.authorization = 'Bearer ' + key;
    return headers;
  }
  function askForKey() {
    var key = window.prompt('This dashboard needs an API key (or the dashboard key):');
    if (key) sessionStorage.setItem(KEY_ITEM, key.trim());
  }

  function fmtMs(ms) {
    if (ms == null || !Number.isFinite(ms)) return '–';
    if (ms === 0) return '0';
    if (ms >= 100) return ms.toFixed(0);
    if (ms >= 10) return ms.toFixed(1);
    if (ms >= 1) return ms.toFixed(2);
    return ms.toFixed(3);
  }

  function fmtNumber(x, digits) {
    return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  // Both charts show the same span: at least the last minute, growing to the server's whole window.
  var MIN_SPAN_S = 60;
  var xRange = [0, 1];

  function updateXRange(data) {
    var now = Math.ceil(data.now);
    var first = now - MIN_SPAN_S;
    var t = data.throughput.t;
    if (t.length) first = Math.min(first, t[0]);
    Object.keys(data.stages).forEach(function (name) {
      if (data.stages[name].t.length) first = Math.min(first, data.stages[name].t[0]);
    });
    xRange = [Math.max(first, now - data.windowSeconds), now];
  }

  function timeScale() {
    return {
      time: true,
      range: function () {
        return xRange;
      },
    };
  }

  function chartWidth(el) {
    return Math.max(300, el.clientWidth || el.parentElement.clientWidth - 32);
  }

  // ---- latency per stage -------------------------------------------------

  var stageChart = null;
  var stageKey = null;

  function renderStages(stages) {
    var el = $('stage-chart');
    var names = Object.keys(stages).sort();
    $('stage-empty').hidden = names.length > 0;
    // A log scale: stages span microseconds (a merge) to seconds (a generation); it cannot show 0.
    var floor = function (v) {
      return v === null || v === undefined ? v : Math.max(v, 0.001);
    };
    var tables = names.map(function (name) {
      var s = stages[name];
      return [s.t, s.p50.map(floor), s.p99.map(floor)];
    });
    var data = names.length > 0 ? uPlot.join(tables) : [[]];
    var key = names.join(',');
    if (stageChart === null || key !== stageKey) {
      if (stageChart) stageChart.destroy();
      var series = [{}];
      names.forEach(function (name, i) {
        var color = COLORS[i % COLORS.length];
        series.push({
          label: name + ' p50',
          stroke: color,
          width: 2,
          spanGaps: true,
          value: function (_u, v) {
            return fmtMs(v);
          },
        });
        series.push({
          label: name + ' p99',
          stroke: color,
          width: 1.5,
          dash: [6, 4],
          spanGaps: true,
          value: function (_u, v) {
            return fmtMs(v);
          },
        });
      });
      stageChart = new uPlot(
        {
          width: chartWidth(el),
          height: 280,
          scales: { x: timeScale(), y: { distr: 3, log: 10 } },
          series: series,
          axes: [{}, { label: 'ms (log)', size: 60 }],
          legend: { live: true },
        },
        data,
        el,
      );
      stageKey = key;
    } else {
      stageChart.setData(data);
    }
    var samples = 0;
    names.forEach(function (name) {
      stages[name].count.forEach(function (c) {
        samples += c;
      });
    });
    var xs = data[0];
    el.dataset.points = String(xs.length);
    el.dataset.lastT = String(xs.length ? xs[xs.length - 1] : 0);
    el.dataset.samples = String(samples);
    el.dataset.stages = key;
  }

  // ---- throughput and queue depth ----------------------------------------

  var loadChart = null;

  function renderLoad(throughput, queueDepth) {
    var el = $('load-chart');
    var data = [throughput.t, throughput.rps, queueDepth.depth];
    if (loadChart === null) {
      loadChart = new uPlot(
        {
          width: chartWidth(el),
          height: 220,
          scales: {
            x: timeScale(),
            rps: {
              auto: true,
              range: function (_u, _min, max) {
                return [0, Math.max(1, max)];
              },
            },
            depth: {
              auto: true,
              range: function (_u, _min, max) {
                return [0, Math.max(1, max)];
              },
            },
          },
          series: [
            {},
            { label: 'req/s', scale: 'rps', stroke: '#2f6fdf', width: 2, fill: 'rgba(47,111,223,0.08)' },
            { label: 'queue depth', scale: 'depth', stroke: '#d9480f', width: 2, spanGaps: true, paths: uPlot.paths.stepped({ align: 1 }) },
          ],
          axes: [{}, { scale: 'rps', label: 'req/s', size: 50 }, { scale: 'depth', label: 'queued', side: 1, size: 50, grid: { show: false } }],
        },
        data,
        el,
      );
    } else {
      loadChart.setData(data);
    }
    var requests = 0;
    throughput.rps.forEach(function (r) {
      requests += r;
    });
    el.dataset.points = String(throughput.t.length);
    el.dataset.lastT = String(throughput.t.length ? throughput.t[throughput.t.length - 1] : 0);
    el.dataset.requests = String(requests);
  }

  // ---- per-shard latency -------------------------------------------------

  function cell(text, cls) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function renderShards(shards, windowSeconds) {
    $('shard-window').textContent = 'last ' + windowSeconds + ' s';
    $('shard-empty').hidden = shards.length > 0;
    var body = $('shard-table').tBodies[0];
    var max = 0;
    shards.forEach(function (s) {
      max = Math.max(max, s.p99);
    });
    var rows = shards.map(function (s) {
      var tr = document.createElement('tr');
      tr.dataset.testid = 'shard-row';
      tr.dataset.stage = s.stage;
      tr.dataset.shard = s.shard;
      tr.dataset.p50 = String(s.p50);
      tr.dataset.p99 = String(s.p99);
      tr.append(cell(s.stage), cell(s.shard), cell(fmtMs(s.p50), 'num'), cell(fmtMs(s.p99), 'num'), cell(String(s.count), 'num'));
      var bar = document.createElement('div');
      bar.className = 'bar';
      var p99 = document.createElement('div');
      p99.className = 'p99';
      p99.style.width = (max > 0 ? (100 * s.p99) / max : 0) + '%';
      var p50 = document.createElement('div');
      p50.className = 'p50';
      p50.style.width = (max > 0 ? (100 * s.p50) / max : 0) + '%';
      bar.append(p99, p50);
      var td = document.createElement('td');
      td.append(bar);
      tr.append(td);
      return tr;
    });
    body.replaceChildren.apply(body, rows);
  }

  // ---- A/B ---------------------------------------------------------------

  var shownAb = null;

  function setMs(id, ms) {
    var el = $(id);
    el.textContent = fmtMs(ms) + ' ms';
    el.dataset.value = String(ms);
  }

  function renderAb(report) {
    var key = JSON.stringify(report);
    if (key === shownAb) return;
    shownAb = key;
    $('ab-baseline-label').textContent = report.baseline.label;
    $('ab-ragwire-label').textContent = report.ragwire.label;
    $('ab-answer-baseline-label').textContent = report.baseline.label;
    $('ab-answer-ragwire-label').textContent = report.ragwire.label;
    var stages = [];
    [report.baseline.stages, report.ragwire.stages].forEach(function (s) {
      Object.keys(s).forEach(function (name) {
        if (stages.indexOf(name) < 0) stages.push(name);
      });
    });
    var body = $('ab-table').tBodies[0];
    body.replaceChildren.apply(
      body,
      stages.map(function (name) {
        var tr = document.createElement('tr');
        tr.setAttribute('data-stage', name);
        var b = report.baseline.stages[name];
        var r = report.ragwire.stages[name];
        tr.append(cell(name), cell(b == null ? '–' : fmtMs(b) + ' ms', 'num'), cell(r == null ? '–' : fmtMs(r) + ' ms', 'num'));
        return tr;
      }),
    );
    setMs('ab-baseline-ms', report.baseline.totalMs);
    setMs('ab-ragwire-ms', report.ragwire.totalMs);
    var speedup = $('ab-speedup');
    speedup.textContent = report.speedup.toFixed(2) + '×';
    speedup.dataset.value = String(report.speedup);
    $('ab-answer-baseline').textContent = report.baseline.answer;
    $('ab-answer-ragwire').textContent = report.ragwire.answer;
    $('ab-table').hidden = false;
    $('ab-speedup-line').hidden = false;
    $('ab-answers').hidden = false;
    $('ab-status').textContent = 'Question: ' + report.question;
    $('ab-status').className = 'empty';
    // The calculator starts from what was just measured.
    $('cost-baseline-ms').value = String(Math.round(report.baseline.totalMs * 1000) / 1000);
    $('cost-ragwire-ms').value = String(Math.round(report.ragwire.totalMs * 1000) / 1000);
    computeCost();
  }

  $('ab-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var button = $('ab-run');
    var status = $('ab-status');
    button.disabled = true;
    status.className = 'empty';
    status.textContent = 'Running both sides…';
    fetch('/dashboard/api/ab', {
      method: 'POST',
      headers: apiHeaders({ 'content-type': 'application/json' }),
      body: JSON.stringify({ question: $('ab-question').value }),
    })
      .then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) throw new Error((body.error?.code ? body.error.code + ': ' : '') + (body.error ? body.error.message : res.statusText));
          renderAb(body);
        });
      })
      .catch(function (error) {
        status.className = 'error';
        status.textContent = error.message;
      })
      .finally(function () {
        button.disabled = false;
      });
  });

  // ---- cost calculator ---------------------------------------------------

  function numberIn(id) {
    var v = parseFloat($(id).value);
    return Number.isFinite(v) ? v : 0;
  }

  function computeCost() {
    var perDay = numberIn('cost-qpd');
    var saved = numberIn('cost-baseline-ms') - numberIn('cost-ragwire-ms');
    var hours = (perDay * saved) / 3.6e6;
    var money = hours * numberIn('cost-gpu-price');
    var h = $('cost-hours');
    h.textContent = fmtNumber(hours, 2) + ' h' + (hours < 0 ? ' (ragwire slower)' : '');
    h.dataset.value = String(hours);
    var m = $('cost-money');
    m.textContent = '$' + fmtNumber(money, 2);
    m.dataset.value = String(money);
    var y = $('cost-money-year');
    y.textContent = '$' + fmtNumber(money * 365, 0);
    y.dataset.value = String(money * 365);
  }

  $('cost-form').addEventListener('input', computeCost);
  $('cost-form').addEventListener('submit', function (event) {
    event.preventDefault();
  });
  computeCost();

  // ---- polling -----------------------------------------------------------

  function setStatus(text, cls) {
    var el = $('status');
    el.textContent = text;
    el.className = 'status ' + cls;
  }

  function render(data) {
    updateXRange(data);
    renderStages(data.stages);
    renderLoad(data.throughput, data.queueDepth);
    renderShards(data.shards, data.shardWindowSeconds);
    if (data.ab) renderAb(data.ab);
    if (!data.abAvailable) {
      $('ab-run').disabled = true;
      $('ab-run').title = 'the process that started this proxy registered no A/B comparison';
    }
    setStatus('live · ' + new Date(data.now * 1000).toLocaleTimeString(), 'live');
  }

  function poll() {
    fetch('/dashboard/api/series', { cache: 'no-store', headers: apiHeaders() })
      .then(function (res) {
        if (res.status === 401) askForKey();
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(render)
      .catch(function (error) {
        setStatus('disconnected: ' + error.message, 'down');
      })
      .finally(function () {
        setTimeout(poll, POLL_MS);
      });
  }

  window.addEventListener('resize', function () {
    if (stageChart) stageChart.setSize({ width: chartWidth($('stage-chart')), height: 280 });
    if (loadChart) loadChart.setSize({ width: chartWidth($('load-chart')), height: 220 });
  });

  poll();
})();
