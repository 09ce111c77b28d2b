// Shoal's web UI: a static page that speaks only the Transmission RPC (spec version 17), so it runs against
// `shoal daemon` or any Transmission-compatible server. No framework and no build step.
//
// Two rules shape the code:
//  - Every string that comes from the server (torrent, file, peer and tracker names, errors) reaches the page
//    as text (textContent or text nodes), never as HTML.
//  - The list is virtual: only the rows in view exist in the DOM, and a row is rewritten only when its
//    torrent changed, so 10,000 torrents cost no more to draw than 30.

const RPC_URL = '/transmission/rpc';
const params = new URLSearchParams(location.search);
const POLL_MS = Math.max(200, Number(params.get('interval')) || 2000);
const FULL_REFRESH_EVERY = 30; // polls between two full lists (recently-active misses nothing, this is a guard)

const Status = { STOPPED: 0, CHECK_WAIT: 1, CHECK: 2, DOWNLOAD_WAIT: 3, DOWNLOAD: 4, SEED_WAIT: 5, SEED: 6 };
const STATUS_TEXT = ['Stopped', 'Queued to verify', 'Verifying', 'Queued', 'Downloading', 'Queued to seed', 'Seeding'];
const STATUS_CLASS = ['stopped', 'queued', 'checking', 'queued', 'downloading', 'queued', 'seeding'];

const LIST_FIELDS = ['id', 'name', 'status', 'percentDone', 'rateDownload', 'rateUpload', 'uploadRatio', 'eta',
  'error', 'errorString', 'sizeWhenDone', 'leftUntilDone', 'totalSize', 'peersConnected', 'peersSendingToUs',
  'peersGettingFromUs', 'metadataPercentComplete', 'recheckProgress', 'queuePosition', 'addedDate', 'isFinished'];
const DETAIL_FIELDS = ['id', 'name', 'hashString', 'totalSize', 'sizeWhenDone', 'haveValid', 'pieceCount',
  'pieceSize', 'pieces', 'downloadDir', 'comment', 'creator', 'dateCreated', 'addedDate', 'doneDate',
  'downloadedEver', 'uploadedEver', 'corruptEver', 'error', 'errorString', 'files', 'fileStats', 'peers',
  'trackerStats', 'isPrivate', 'magnetLink'];

// ---------------------------------------------------------------------------------------------------- RPC

/** Transmission RPC over fetch, with the X-Transmission-Session-Id handshake (a 409 carries the id to use). */
class Rpc {
  constructor(url) {
    this.url = url;
    this.sessionId = '';
  }

  async call(method, args = {}) {
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await fetch(this.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Transmission-Session-Id': this.sessionId },
        body: JSON.stringify({ method, arguments: args }),
        credentials: 'same-origin',
        cache: 'no-store',
      });
      if (response.status === 409) {
        this.sessionId = response.headers.get('X-Transmission-Session-Id') || '';
        continue;
      }
      if (!response.ok) throw new Error(`${method}: HTTP ${response.status}`);
      const body = await response.json();
      if (body.result !== 'success') throw new Error(`${method}: ${body.result}`);
      return body.arguments || {};
    }
    throw new Error(`${method}: the server kept refusing the session id`);
  }
}

// ---------------------------------------------------------------------------------------------- formatting

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
function formatBytes(n) {
  if (!(n > 0)) return '0 B';
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n >= 100 || i === 0 ? Math.round(n) : n.toFixed(1)} ${UNITS[i]}`;
}
const formatRate = (n) => `${formatBytes(n)}/s`;
function formatEta(s) {
  if (s === -2) return '∞';
  if (!(s >= 0)) return '';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}
function formatRatio(r) {
  if (r === -2) return '∞';
  if (!(r >= 0)) return '—';
  return r < 10 ? r.toFixed(2) : r.toFixed(1);
}
const formatPercent = (f) => `${Math.floor((f || 0) * 1000) / 10}%`;
const formatDate = (secs) => (secs > 0 ? new Date(secs * 1000).toLocaleString() : '—');

/** Builds an element; string children become text nodes, so server data can never become markup. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

/** Sets text only when it changed: no layout work for rows whose numbers stayed the same. */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// --------------------------------------------------------------------------------------------------- model

/** The torrents the page knows, each with a version that changes when any of its fields does. */
class TorrentStore {
  constructor() {
    this.byId = new Map();
    this.version = 0; // bumps on any change; the view recomputes its order only then
  }

  merge(torrents) {
    let changed = false;
    for (const incoming of torrents) {
      const current = this.byId.get(incoming.id);
      if (!current) {
        this.byId.set(incoming.id, { ...incoming, _v: 1 });
        changed = true;
        continue;
      }
      let differs = false;
      for (const key in incoming) {
        if (current[key] !== incoming[key]) {
          current[key] = incoming[key];
          differs = true;
        }
      }
      if (differs) {
        current._v++;
        changed = true;
      }
    }
    if (changed) this.version++;
  }

  /** Replaces the whole set (a full list): torrents absent from it are gone. */
  replace(torrents) {
    const seen = new Set(torrents.map((t) => t.id));
    const removed = [...this.byId.keys()].filter((id) => !seen.has(id));
    this.remove(removed);
    this.merge(torrents);
  }

  remove(ids) {
    let changed = false;
    for (const id of ids) changed = this.byId.delete(id) || changed;
    if (changed) this.version++;
  }
}

function matchesFilter(t, filter) {
  switch (filter) {
    case 'active': return t.rateDownload > 0 || t.rateUpload > 0 || t.status === Status.CHECK;
    case 'downloading': return t.status === Status.DOWNLOAD || t.status === Status.DOWNLOAD_WAIT;
    case 'seeding': return t.status === Status.SEED || t.status === Status.SEED_WAIT;
    case 'stopped': return t.status === Status.STOPPED;
    case 'error': return t.error > 0;
    default: return true;
  }
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
const SORTS = {
  name: (a, b) => collator.compare(a.name, b.name) || a.id - b.id,
  queue: (a, b) => a.queuePosition - b.queuePosition || a.id - b.id,
  added: (a, b) => b.addedDate - a.addedDate || a.id - b.id,
  progress: (a, b) => a.percentDone - b.percentDone || a.id - b.id,
  rate: (a, b) => b.rateDownload + b.rateUpload - (a.rateDownload + a.rateUpload) || a.id - b.id,
};

// ---------------------------------------------------------------------------------------- the virtual list

/** Draws the rows in view from a pool of row elements, absolutely placed over a spacer as tall as the list. */
class TorrentList {
  constructor(container, spacer, onRowClick) {
    this.container = container;
    this.spacer = spacer;
    this.rows = []; // pooled row elements
    this.order = []; // torrents in display order
    this.selected = new Set();
    this.rowHeight = 0;
    this.onRowClick = onRowClick;
    container.addEventListener('scroll', () => this.draw(), { passive: true });
    // The row height is a CSS value that changes with the screen width (phones get taller rows).
    new ResizeObserver(() => {
      this.rowHeight = 0;
      this.setOrder(this.order);
    }).observe(container);
  }

  setOrder(order) {
    this.order = order;
    this.spacer.style.height = `${order.length * this.measureRowHeight()}px`;
    this.draw(true);
  }

  measureRowHeight() {
    if (!this.rowHeight) {
      const probe = this.makeRow();
      this.spacer.append(probe);
      this.rowHeight = probe.getBoundingClientRect().height || 56;
      probe.remove();
    }
    return this.rowHeight;
  }

  makeRow() {
    const row = el('div', { class: 'row', role: 'row' },
      el('input', { type: 'checkbox', class: 'pick', title: 'Select' }),
      el('div', { class: 'cells' },
        el('div', { class: 'line1' }, el('span', { class: 'name' }), el('span', { class: 'rates' })),
        el('div', { class: 'bar' }, el('div', { class: 'fill' })),
        el('div', { class: 'line2' }, el('span', { class: 'status' }), el('span', { class: 'numbers' }))));
    row.addEventListener('click', (event) => this.onRowClick(Number(row.dataset.id), event));
    row._parts = {
      pick: row.querySelector('.pick'),
      name: row.querySelector('.name'),
      rates: row.querySelector('.rates'),
      fill: row.querySelector('.fill'),
      status: row.querySelector('.status'),
      numbers: row.querySelector('.numbers'),
    };
    return row;
  }

  /** Places and fills the rows in view; a pooled row already showing the same torrent version is left alone. */
  draw(force = false) {
    const h = this.measureRowHeight();
    const top = this.container.scrollTop;
    const first = Math.max(0, Math.floor(top / h) - 4);
    const last = Math.min(this.order.length, Math.ceil((top + this.container.clientHeight) / h) + 4);
    const needed = last - first;
    while (this.rows.length < needed) {
      const row = this.makeRow();
      this.rows.push(row);
      this.spacer.append(row);
    }
    for (let slot = 0; slot < this.rows.length; slot++) {
      const row = this.rows[slot];
      const index = first + slot;
      if (slot >= needed) {
        if (!row.hidden) row.hidden = true;
        row._key = null;
        continue;
      }
      const t = this.order[index];
      const selected = this.selected.has(t.id);
      const key = `${t.id}:${t._v}:${index}:${selected}`;
      if (!force && row._key === key) continue;
      row._key = key;
      row.hidden = false;
      row.style.transform = `translateY(${index * h}px)`;
      fillRow(row, t, selected);
    }
  }
}

function statusLine(t) {
  if (t.error > 0) return `Error: ${t.errorString}`;
  if (t.metadataPercentComplete < 1 && t.status !== Status.STOPPED) {
    return `Fetching metadata ${formatPercent(t.metadataPercentComplete)}`;
  }
  if (t.status === Status.CHECK) return `Verifying ${formatPercent(t.recheckProgress)}`;
  const text = STATUS_TEXT[t.status] ?? 'Unknown';
  if (t.status === Status.DOWNLOAD || t.status === Status.SEED) {
    return `${text} with ${t.peersConnected} peer${t.peersConnected === 1 ? '' : 's'}`;
  }
  return text;
}

function fillRow(row, t, selected) {
  const p = row._parts;
  row.dataset.id = t.id;
  row.dataset.state = t.error > 0 ? 'error' : STATUS_CLASS[t.status] ?? 'unknown';
  row.dataset.percent = Math.floor((t.percentDone || 0) * 100);
  row.classList.toggle('selected', selected);
  p.pick.checked = selected;
  setText(p.name, t.name ?? '');
  p.name.title = t.name ?? '';
  setText(p.rates, `↓ ${formatRate(t.rateDownload)}  ↑ ${formatRate(t.rateUpload)}`);
  p.fill.style.width = `${(t.percentDone || 0) * 100}%`;
  setText(p.status, statusLine(t));
  const done = t.sizeWhenDone - t.leftUntilDone;
  const eta = t.status === Status.DOWNLOAD ? formatEta(t.eta) : '';
  setText(p.numbers, `${formatPercent(t.percentDone)} of ${formatBytes(t.sizeWhenDone)}` +
    (done > 0 && t.leftUntilDone > 0 ? ` (${formatBytes(done)})` : '') +
    ` · ratio ${formatRatio(t.uploadRatio)}` + (eta ? ` · ETA ${eta}` : ''));
}

// -------------------------------------------------------------------------------------------- details pane

const PRIORITY = { '-1': 'low', 0: 'normal', 1: 'high' };

class Details {
  constructor(app) {
    this.app = app;
    this.pane = document.getElementById('details');
    this.tab = 'info';
    this.id = null;
    this.filesKey = '';
    document.getElementById('details-close').addEventListener('click', () => this.close());
    for (const button of this.pane.querySelectorAll('[data-tab]')) {
      button.addEventListener('click', () => this.showTab(button.dataset.tab));
    }
  }

  open(id) {
    this.id = id;
    this.filesKey = '';
    this.pane.hidden = false;
    document.body.classList.add('details-open');
    this.refresh();
  }

  close() {
    this.id = null;
    this.pane.hidden = true;
    document.body.classList.remove('details-open');
  }

  showTab(name) {
    this.tab = name;
    for (const button of this.pane.querySelectorAll('[data-tab]')) {
      button.setAttribute('aria-selected', String(button.dataset.tab === name));
    }
    for (const section of this.pane.querySelectorAll('.tab')) section.hidden = section.id !== `tab-${name}`;
    this.refresh();
  }

  async refresh() {
    if (this.id === null) return;
    const id = this.id;
    const { torrents = [] } = await this.app.rpc.call('torrent-get', { ids: [id], fields: DETAIL_FIELDS });
    if (this.id !== id) return;
    const t = torrents[0];
    if (!t) {
      this.close();
      return;
    }
    setText(document.getElementById('details-name'), t.name ?? '');
    this.drawInfo(t);
    this.drawFiles(t);
    this.drawPeers(t.peers || []);
    this.drawTrackers(t.trackerStats || []);
    this.drawPieces(t);
  }

  drawInfo(t) {
    const entries = [
      ['Name', t.name], ['Info-hash', t.hashString], ['Size', formatBytes(t.totalSize)],
      ['Have (verified)', formatBytes(t.haveValid)], ['Pieces', `${t.pieceCount} × ${formatBytes(t.pieceSize)}`],
      ['Downloaded', formatBytes(t.downloadedEver)], ['Uploaded', formatBytes(t.uploadedEver)],
      ['Corrupt', formatBytes(t.corruptEver)], ['Location', t.downloadDir], ['Private', t.isPrivate ? 'yes' : 'no'],
      ['Added', formatDate(t.addedDate)], ['Completed', formatDate(t.doneDate)], ['Created', formatDate(t.dateCreated)],
      ['Creator', t.creator], ['Comment', t.comment], ['Error', t.error > 0 ? t.errorString : ''],
      ['Magnet', t.magnetLink],
    ];
    const list = document.getElementById('info-list');
    list.replaceChildren(...entries.filter(([, v]) => v !== undefined && v !== '')
      .flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]));
  }

  drawFiles(t) {
    const files = t.files || [];
    const stats = t.fileStats || [];
    const body = document.getElementById('files-body');
    const key = `${t.id}:${files.length}`;
    if (key !== this.filesKey) {
      this.filesKey = key;
      body.replaceChildren(...files.map((file, index) => {
        const wanted = el('input', { type: 'checkbox', class: 'wanted', title: 'Download this file' });
        wanted.addEventListener('change', () => this.app.setFiles(t.id, [index],
          wanted.checked ? 'files-wanted' : 'files-unwanted'));
        const priority = el('select', { class: 'priority', title: 'Priority' },
          el('option', { value: 'low' }, 'Low'), el('option', { value: 'normal' }, 'Normal'),
          el('option', { value: 'high' }, 'High'));
        priority.addEventListener('change', () => this.app.setFiles(t.id, [index], `priority-${priority.value}`));
        return el('tr', { dataset: { index } }, el('td', {}, wanted), el('td', { class: 'fname' }, file.name),
          el('td', { class: 'fdone' }), el('td', {}, priority));
      }));
    }
    files.forEach((file, index) => {
      const row = body.children[index];
      const stat = stats[index] || {};
      const wanted = row.querySelector('.wanted');
      if (document.activeElement !== wanted) wanted.checked = stat.wanted !== false;
      const priority = row.querySelector('.priority');
      if (document.activeElement !== priority) priority.value = PRIORITY[stat.priority ?? 0] ?? 'normal';
      setText(row.querySelector('.fdone'),
        file.length > 0 ? formatPercent(file.bytesCompleted / file.length) : '100%');
    });
  }

  drawPeers(peers) {
    document.getElementById('peers-body').replaceChildren(...peers.map((p) => el('tr', {},
      el('td', {}, `${p.address}:${p.port}`), el('td', {}, p.clientName ?? ''),
      el('td', {}, formatPercent(p.progress)), el('td', {}, formatRate(p.rateToClient)),
      el('td', {}, formatRate(p.rateToPeer)), el('td', {}, p.flagStr ?? ''))));
  }

  drawTrackers(trackers) {
    document.getElementById('trackers-body').replaceChildren(...trackers.map((tr) => el('tr', {},
      el('td', {}, String(tr.tier ?? '')), el('td', { class: 'announce' }, tr.announce ?? ''),
      el('td', {}, tr.lastAnnounceResult || (tr.hasAnnounced ? 'OK' : '—')),
      el('td', {}, String(tr.seederCount ?? '')), el('td', {}, String(tr.leecherCount ?? '')))));
  }

  /** The `pieces` field is a base64 bitfield, most significant bit first; one cell per piece or per group. */
  drawPieces(t) {
    const canvas = document.getElementById('pieces-map');
    const count = t.pieceCount || 0;
    let bits;
    try {
      bits = Uint8Array.from(atob(t.pieces || ''), (c) => c.charCodeAt(0));
    } catch {
      bits = new Uint8Array(0);
    }
    const has = (i) => (bits[i >> 3] >> (7 - (i & 7))) & 1;
    const width = Math.max(160, Math.floor(canvas.parentElement.clientWidth) || 320);
    const cells = Math.min(count, 4096);
    const columns = Math.max(1, Math.min(cells, Math.floor(width / 6)));
    const rows = Math.ceil(cells / columns) || 1;
    const cellW = width / columns;
    const cellH = Math.max(4, Math.min(12, cellW));
    canvas.width = width;
    canvas.height = Math.ceil(rows * cellH);
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    let held = 0;
    for (let i = 0; i < count; i++) held += has(i);
    for (let cell = 0; cell < cells; cell++) {
      // A cell stands for a range of pieces when there are more pieces than cells; shade by the share held.
      const from = Math.floor((cell * count) / cells);
      const to = Math.floor(((cell + 1) * count) / cells);
      let n = 0;
      for (let i = from; i < to; i++) n += has(i);
      const share = to > from ? n / (to - from) : 0;
      ctx.fillStyle = share === 0 ? '#d0d4da' : `rgba(38, 128, 77, ${0.35 + 0.65 * share})`;
      ctx.fillRect((cell % columns) * cellW, Math.floor(cell / columns) * cellH, Math.max(1, cellW - 1), cellH - 1);
    }
    setText(document.getElementById('pieces-summary'), `${held} of ${count} pieces verified`);
    canvas.dataset.held = held;
  }
}

// ------------------------------------------------------------------------------------------------- the app

class App {
  constructor() {
    this.rpc = new Rpc(RPC_URL);
    this.store = new TorrentStore();
    this.drawnVersion = -1;
    this.polls = 0;
    this.firstRenderDone = false;
    this.list = new TorrentList(document.getElementById('list'), document.getElementById('list-spacer'),
      (id, event) => this.onRowClick(id, event));
    this.details = new Details(this);
    this.filter = document.getElementById('filter');
    this.sort = document.getElementById('sort');
    this.search = document.getElementById('search');
    for (const control of [this.filter, this.sort, this.search]) {
      control.addEventListener('input', () => this.render(true));
    }
    this.bindToolbar();
    this.bindAddDialog();
    this.bindRemoveDialog();
  }

  bindToolbar() {
    const on = (id, fn) => document.getElementById(id).addEventListener('click', fn);
    on('btn-add', () => this.openAdd());
    on('btn-start', () => this.act('torrent-start'));
    on('btn-stop', () => this.act('torrent-stop'));
    on('btn-remove', () => this.openRemove());
    on('btn-details', () => {
      const [id] = this.list.selected;
      if (id !== undefined) this.details.open(id);
    });
  }

  bindAddDialog() {
    const dialog = document.getElementById('add-dialog');
    document.getElementById('add-cancel').addEventListener('click', () => dialog.close());
    document.getElementById('add-form').addEventListener('submit', async (event) => {
      event.preventDefault();
      const error = document.getElementById('add-error');
      setText(error, '');
      try {
        await this.addFromDialog();
        dialog.close();
      } catch (e) {
        setText(error, e.message);
      }
    });
  }

  openAdd() {
    document.getElementById('add-form').reset();
    setText(document.getElementById('add-error'), '');
    document.getElementById('add-dialog').showModal();
  }

  async addFromDialog() {
    const fileInput = document.getElementById('add-file');
    const url = document.getElementById('add-url').value.trim();
    const common = { paused: document.getElementById('add-paused').checked };
    const dir = document.getElementById('add-dir').value.trim();
    if (dir) common['download-dir'] = dir;
    const requests = [];
    for (const file of fileInput.files) {
      requests.push({ ...common, metainfo: await fileToBase64(file) });
    }
    if (url) requests.push({ ...common, filename: url });
    if (requests.length === 0) throw new Error('Choose a .torrent file or enter a URL or magnet link.');
    const added = [];
    for (const request of requests) {
      const result = await this.rpc.call('torrent-add', request);
      const t = result['torrent-added'] || result['torrent-duplicate'];
      if (t) added.push(t.id);
    }
    await this.refreshIds(added);
  }

  bindRemoveDialog() {
    const dialog = document.getElementById('remove-dialog');
    document.getElementById('remove-cancel').addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      if (dialog.returnValue !== 'remove') return;
      const ids = [...this.list.selected];
      const deleteData = document.getElementById('remove-data').checked;
      this.run(async () => {
        await this.rpc.call('torrent-remove', { ids, 'delete-local-data': deleteData });
        this.store.remove(ids);
        for (const id of ids) this.list.selected.delete(id);
        if (ids.includes(this.details.id)) this.details.close();
        this.render();
      });
    });
  }

  openRemove() {
    const ids = [...this.list.selected];
    if (ids.length === 0) return;
    const dialog = document.getElementById('remove-dialog');
    dialog.returnValue = '';
    document.getElementById('remove-data').checked = false;
    const only = ids.length === 1 ? this.store.byId.get(ids[0]) : null;
    setText(document.getElementById('remove-text'),
      only ? `Remove “${only.name}”?` : `Remove ${ids.length} torrents?`);
    dialog.showModal();
  }

  act(method) {
    const ids = [...this.list.selected];
    if (ids.length === 0) return;
    this.run(async () => {
      await this.rpc.call(method, { ids });
      await this.refreshIds(ids);
    });
  }

  setFiles(id, indexes, key) {
    this.run(async () => {
      await this.rpc.call('torrent-set', { ids: [id], [key]: indexes });
      await this.details.refresh();
    });
  }

  onRowClick(id, event) {
    if (!Number.isFinite(id)) return;
    const selected = this.list.selected;
    if (event.target.classList.contains('pick') || event.ctrlKey || event.metaKey) {
      if (selected.has(id)) selected.delete(id);
      else selected.add(id);
    } else {
      selected.clear();
      selected.add(id);
      if (!this.details.pane.hidden) this.details.open(id);
    }
    this.list.draw(true);
    this.updateButtons();
  }

  updateButtons() {
    const n = this.list.selected.size;
    for (const id of ['btn-start', 'btn-stop', 'btn-remove']) document.getElementById(id).disabled = n === 0;
    document.getElementById('btn-details').disabled = n !== 1;
  }

  /** Runs an action and shows its failure in the status bar instead of losing it. */
  async run(action) {
    try {
      await action();
      setText(document.getElementById('stat-error'), '');
    } catch (e) {
      setText(document.getElementById('stat-error'), e.message);
    }
  }

  async refreshIds(ids) {
    if (ids.length === 0) return;
    const { torrents = [] } = await this.rpc.call('torrent-get', { ids, fields: LIST_FIELDS });
    this.store.merge(torrents);
    this.render();
  }

  /** One poll: the full list at first and now and then, otherwise only what changed (`recently-active`). */
  async poll() {
    const full = this.polls % FULL_REFRESH_EVERY === 0;
    this.polls++;
    const args = { fields: LIST_FIELDS };
    if (!full) args.ids = 'recently-active';
    const result = await this.rpc.call('torrent-get', args);
    if (full) this.store.replace(result.torrents || []);
    else {
      this.store.merge(result.torrents || []);
      this.store.remove(result.removed || []);
    }
    this.render();
    document.documentElement.dataset.polls = this.polls; // lets tests wait for updates instead of sleeping
    const stats = await this.rpc.call('session-stats');
    setText(document.getElementById('stat-down'), `↓ ${formatRate(stats.downloadSpeed)}`);
    setText(document.getElementById('stat-up'), `↑ ${formatRate(stats.uploadSpeed)}`);
    if (this.details.id !== null) await this.details.refresh();
  }

  render(orderChanged = false) {
    const started = performance.now();
    if (orderChanged || this.store.version !== this.drawnVersion) {
      this.drawnVersion = this.store.version;
      const filter = this.filter.value;
      const needle = this.search.value.trim().toLowerCase();
      const order = [];
      for (const t of this.store.byId.values()) {
        if (!matchesFilter(t, filter)) continue;
        if (needle && !String(t.name).toLowerCase().includes(needle)) continue;
        order.push(t);
      }
      order.sort(SORTS[this.sort.value] || SORTS.name);
      this.list.setOrder(order);
      for (const id of this.list.selected) if (!this.store.byId.has(id)) this.list.selected.delete(id);
      this.updateButtons();
      document.getElementById('list-empty').hidden = order.length > 0;
      setText(document.getElementById('stat-count'),
        `${order.length} of ${this.store.byId.size} torrent${this.store.byId.size === 1 ? '' : 's'}`);
    }
    const ms = performance.now() - started;
    const root = document.documentElement.dataset;
    root.lastRenderMs = ms.toFixed(1);
    if (this.firstRenderDone) root.maxUpdateRenderMs = Math.max(Number(root.maxUpdateRenderMs || 0), ms).toFixed(1);
    else {
      // The time from navigation to the first list on screen, read by the browser tests.
      this.firstRenderDone = true;
      performance.mark('shoal-first-render');
      root.firstRenderMs = performance.now().toFixed(1);
      root.firstRenderWorkMs = ms.toFixed(1);
    }
  }

  async loop() {
    for (;;) {
      await this.run(() => this.poll());
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}

function fileToBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    // A data: URL is "data:<type>;base64,<payload>": the payload is the metainfo the RPC wants.
    reader.onload = () => resolve(String(reader.result).split(',', 2)[1] || '');
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

new App().loop();
