// Sluice console: polls the SRS-compatible HTTP API every 2 s and draws what
// it sees. No framework, no chart library: plain DOM and a canvas.
const POLL_MS = 2000;
const HISTORY = 90; // points per chart (3 minutes at 2 s)
const PAGE = 100; // rows per table page; the API pages (start, count) and filters (q) on the server

const state = {
  api: '',
  auth: sessionStorage.getItem('sluice.auth') || '',
  history: new Map(), // stream id -> [{in, out}]
  server: [], // [{conn, cpu}]
  streams: new Map(),
  pages: { stream: { start: 0, q: '', total: 0 }, client: { start: 0, q: '', total: 0 } },
};

const $ = (id) => document.getElementById(id);

async function loadConfig() {
  const override = new URLSearchParams(location.search).get('api');
  if (override !== null) return override.replace(/\/$/, '');
  try {
    const res = await fetch('config.json', { cache: 'no-store' });
    const cfg = await res.json();
    if (cfg.api === null) throw new Error('the HTTP API is disabled (http_api)');
    return (cfg.api || '').replace(/\/$/, '');
  } catch (err) {
    setStatus(String(err.message || err), false);
    return '';
  }
}

function setStatus(text, ok) {
  const s = $('status');
  s.textContent = text;
  s.className = `status ${ok ? 'ok' : 'bad'}`;
}

async function api(path, init = {}) {
  const headers = { ...(init.headers || {}) };
  if (state.auth) headers.Authorization = state.auth;
  const res = await fetch(`${state.api}${path}`, { ...init, headers });
  if (res.status === 401 || res.status === 403) {
    $('login').hidden = false;
    throw new Error(res.status === 401 ? 'sign in to use the API' : 'these credentials cannot do that');
  }
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  const body = await res.json();
  if (body.code !== 0) throw new Error(`${path}: code ${body.code}`);
  return body;
}

function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(r).padStart(2, '0')}s` : `${r}s`;
}

function videoText(v) {
  if (!v) return '–';
  const size = v.width ? ` ${v.width}×${v.height}` : '';
  return `${v.codec} ${v.profile}${v.level && v.level !== 'Other' ? '@' + v.level : ''}${size}`;
}

function audioText(a) {
  if (!a) return '–';
  return `${a.codec} ${a.profile !== 'Other' ? a.profile + ' ' : ''}${a.sample_rate ? a.sample_rate / 1000 + ' kHz' : ''}${a.channel ? ' ' + (a.channel === 1 ? 'mono' : a.channel === 2 ? 'stereo' : a.channel + 'ch') : ''}`;
}

function protocolOf(type) {
  if (type === 'rtmp-play' || type === 'fmle-publish' || type === 'flash-publish') return 'RTMP';
  if (type === 'flv-play') return 'HTTP-FLV';
  if (type.startsWith('hls')) return 'HLS';
  if (type.startsWith('rtc')) return 'WebRTC';
  if (type.startsWith('srt') || type === 'haivision-publish') return 'SRT';
  return type;
}

/** Player links for a stream, for the HTTP server this page came from. */
function playLinks(s) {
  const q = `app=${encodeURIComponent(s.app)}&stream=${encodeURIComponent(s.name)}`;
  return [
    ['FLV', `/players/flv.html?${q}`],
    ['WS-FLV', `/players/flv.html?${q}&ws=1`],
    ['HLS', `/players/hls.html?${q}`],
    ['WebRTC', `/players/whep.html?${q}`],
  ];
}

/** A line chart of one or two series on a canvas; values scaled to the max seen. */
function drawChart(canvas, points, series) {
  const ctx = canvas.getContext('2d');
  const w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = '#111920';
  ctx.fillRect(0, 0, w, h);
  if (points.length < 2) return;
  let max = 1;
  for (const p of points) for (const s of series) max = Math.max(max, p[s.key] || 0);
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    points.forEach((p, i) => {
      const x = (i / (HISTORY - 1)) * w;
      const y = h - 4 - ((p[s.key] || 0) / max) * (h - 16);
      if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
  }
  ctx.fillStyle = '#7d8a99';
  ctx.font = '10px system-ui';
  ctx.fillText(series.map((s) => `${s.label} ${Math.round(points[points.length - 1][s.key] || 0)}${s.unit || ''}`).join('  '), 4, 11);
}

function push(list, item) {
  list.push(item);
  if (list.length > HISTORY) list.shift();
}

function cell(row, text, cls) {
  const td = document.createElement('td');
  if (cls) td.className = cls;
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function renderStreams(streams) {
  const body = $('streams').tBodies[0];
  const seen = new Set();
  for (const s of streams) {
    seen.add(s.id);
    const hist = state.history.get(s.id) || [];
    push(hist, { in: s.kbps.recv_30s, out: s.kbps.send_30s });
    state.history.set(s.id, hist);
    let row = body.querySelector(`tr[data-id="${s.id}"]`);
    if (!row) {
      row = document.createElement('tr');
      row.dataset.id = s.id;
      row.dataset.url = s.url;
      for (let i = 0; i < 9; i++) row.appendChild(document.createElement('td'));
      const canvas = document.createElement('canvas');
      canvas.width = 220;
      canvas.height = 40;
      canvas.className = 'bitrate';
      row.cells[7].appendChild(canvas);
      body.appendChild(row);
    }
    const c = row.cells;
    c[0].textContent = s.url;
    c[1].textContent = videoText(s.video);
    c[2].textContent = audioText(s.audio);
    c[3].textContent = s.kbps.recv_30s; c[3].className = 'num';
    c[4].textContent = s.kbps.send_30s; c[4].className = 'num';
    c[5].textContent = s.clients; c[5].className = 'num';
    const pub = state.clients?.find((x) => x.id === s.publish.cid);
    c[6].textContent = s.publish.active ? (pub ? duration(pub.alive) : 'live') : 'idle';
    drawChart(c[7].firstChild, hist, [{ key: 'in', label: 'in', color: '#5fd38d', unit: 'k' }, { key: 'out', label: 'out', color: '#4fb3ff', unit: 'k' }]);
    if (!c[8].firstChild) {
      for (const [label, href] of playLinks(s)) {
        const a = document.createElement('a');
        a.textContent = label;
        a.href = href;
        a.target = '_blank';
        a.className = `play-${label.toLowerCase()}`;
        c[8].appendChild(a);
      }
    }
  }
  for (const row of [...body.rows]) if (!seen.has(row.dataset.id)) { state.history.delete(row.dataset.id); row.remove(); }
  $('stream-count').textContent = `(${state.pages.stream.total})`;
  $('no-streams').hidden = streams.length > 0;
}

function renderClients(clients, streams) {
  const body = $('clients').tBodies[0];
  const byId = new Map(streams.map((s) => [s.id, s]));
  body.replaceChildren();
  for (const cl of clients) {
    const row = document.createElement('tr');
    row.dataset.id = cl.id;
    const s = byId.get(cl.stream);
    cell(row, cl.id);
    cell(row, cl.type);
    cell(row, protocolOf(cl.type));
    cell(row, cl.ip.replace(/^::ffff:/, ''));
    cell(row, cl.url || '–');
    cell(row, s ? videoText(s.video) : '–');
    cell(row, duration(cl.alive));
    cell(row, cl.kbps.recv_30s, 'num');
    cell(row, cl.kbps.send_30s, 'num');
    const td = cell(row, '');
    const kick = document.createElement('button');
    kick.textContent = 'Kick';
    kick.className = 'kick';
    kick.onclick = async () => {
      kick.disabled = true;
      try {
        await api(`/api/v1/clients/${encodeURIComponent(cl.id)}`, { method: 'DELETE' });
        row.remove();
      } catch (err) {
        setStatus(String(err.message || err), false);
        kick.disabled = false;
      }
    };
    td.appendChild(kick);
    body.appendChild(row);
  }
  $('client-count').textContent = `(${state.pages.client.total})`;
}

function bytes(n) {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(0)} KB`;
}

/** One table from rows of cells; replaced whole at each poll (a few rows, unlike streams and clients). */
function renderRows(id, rows) {
  const body = $(id).tBodies[0];
  body.replaceChildren();
  for (const cells of rows) {
    const row = document.createElement('tr');
    for (const c of cells) cell(row, c);
    body.appendChild(row);
  }
  $(`${id.replace(/s$/, '')}-count`).textContent = `(${rows.length})`;
}

function renderOutputs(dvrs, forwards) {
  renderRows('dvrs', (dvrs?.dvrs ?? []).map((d) => [`/${d.app}/${d.stream}`, d.plan, d.file, bytes(d.bytes), duration(Math.round(d.duration_ms / 1000)), d.files, d.error || '–']));
  renderRows('forwards', (forwards?.forwards ?? []).map((f) => [f.stream_url, f.destination, f.state, f.reconnects, bytes(f.send_bytes), f.dropped_frames, f.error || '–']));
}

function renderSummary(sum, version) {
  const d = sum.data;
  $('sum-version').textContent = version;
  $('sum-uptime').textContent = duration(d.self.srs_uptime);
  // SRS sends CPU as a ratio (1.00 = one core); the console shows percent, as SRS's does.
  const cpu = d.self.cpu_percent * 100;
  $('sum-cpu').textContent = `${cpu.toFixed(1)}%`;
  $('sum-mem').textContent = `${(d.self.mem_kbyte / 1024).toFixed(0)} MB`;
  $('sum-conn').textContent = d.system.conn_srs;
  const extra = d.sluice || {};
  $('sum-kbps').textContent = `${extra.recv_kbps ?? '–'} / ${extra.send_kbps ?? '–'} kbps`;
  push(state.server, { conn: d.system.conn_srs, cpu });
  drawChart($('server-chart'), state.server, [{ key: 'conn', label: 'connections', color: '#4fb3ff' }, { key: 'cpu', label: 'CPU', color: '#ffb84f', unit: '%' }]);
}

function pageQuery(p) {
  const q = new URLSearchParams({ start: String(p.start), count: String(PAGE) });
  if (p.q) q.set('q', p.q);
  return q.toString();
}

/** "101–200 of 2345" and the buttons that move by a page. */
function showPage(kind, total, shown) {
  const p = state.pages[kind];
  p.total = total;
  if (p.start > 0 && p.start >= total) p.start = Math.max(0, Math.floor((total - 1) / PAGE) * PAGE);
  $(`${kind}-page`).textContent = total === 0 ? '0 of 0' : `${p.start + 1}–${p.start + shown} of ${total}`;
  $(`${kind}-prev`).disabled = p.start === 0;
  $(`${kind}-next`).disabled = p.start + PAGE >= total;
}

for (const kind of ['stream', 'client']) {
  const p = state.pages[kind];
  $(`${kind}-prev`).onclick = () => { p.start = Math.max(0, p.start - PAGE); poll(); };
  $(`${kind}-next`).onclick = () => { p.start += PAGE; poll(); };
  let typing = 0;
  $(`${kind}-filter`).addEventListener('input', (ev) => {
    clearTimeout(typing);
    typing = setTimeout(() => { p.q = ev.target.value.trim(); p.start = 0; poll(); }, 250);
  });
}

async function poll() {
  try {
    const [versions, sum, streams, clients, dvrs, forwards] = await Promise.all([
      api('/api/v1/versions'),
      api('/api/v1/summaries'),
      api(`/api/v1/streams/?${pageQuery(state.pages.stream)}`),
      api(`/api/v1/clients/?${pageQuery(state.pages.client)}`),
      // Sluice's own lists; a server without them (SRS) leaves the tables empty.
      api('/api/v1/dvrs').catch(() => null),
      api('/api/v1/forwards/?count=100').catch(() => null),
    ]);
    state.clients = clients.clients;
    showPage('stream', streams.total ?? streams.streams.length, streams.streams.length);
    showPage('client', clients.total ?? clients.clients.length, clients.clients.length);
    $('server-id').textContent = `${versions.server} · pid ${versions.pid}`;
    renderSummary(sum, versions.data.sluice ? `Sluice ${versions.data.sluice} (SRS API ${versions.data.version})` : versions.data.version);
    renderStreams(streams.streams);
    renderClients(clients.clients, streams.streams);
    renderOutputs(dvrs, forwards);
    setStatus(`live · ${new Date().toLocaleTimeString()}`, true);
    $('login').hidden = true;
  } catch (err) {
    setStatus(String(err.message || err), false);
  }
}

$('login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = $('login-token').value.trim();
  state.auth = token ? `Bearer ${token}` : `Basic ${btoa(`${$('login-user').value}:${$('login-pass').value}`)}`;
  sessionStorage.setItem('sluice.auth', state.auth);
  poll();
});

state.api = await loadConfig();
await poll();
setInterval(poll, POLL_MS);
