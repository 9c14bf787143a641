// Station's web dashboard: asks for the API token, then shows alerts, refused requests, orders, positions,
// PnL and the scripts' trades and market data, first from the REST API, then live through Socket.IO
// (`join_frontend`). Flatten All and the kill switch ask first. Text from outside (alerts, refused bodies)
// only ever goes into textContent, never into HTML.
"use strict";

const TOKEN_KEY = "station-api-token";
const ROWS = 200; // rows kept per table
const $ = (id) => document.getElementById(id);
const state = { token: null, socket: null, killEngaged: false, tables: {} };

// ---- formatting -----------------------------------------------------------------------------------------

function easternTime(iso) {
  if (!iso) return "";
  const at = new Date(iso);
  if (isNaN(at)) return String(iso);
  return at.toLocaleString("en-US", { timeZone: "America/New_York", hour12: false, month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

function number(value, digits) {
  if (value === null || value === undefined || value === "") return "";
  const n = Number(value);
  if (!isFinite(n)) return String(value);
  return digits === undefined ? String(n) : n.toLocaleString("en-US", { minimumFractionDigits: digits,
    maximumFractionDigits: digits });
}

function money(value) { return value === null || value === undefined ? "–" : number(value, 2); }

function sign(value) { const n = Number(value); return n > 0 ? "pos" : n < 0 ? "neg" : ""; }

// ---- tables ---------------------------------------------------------------------------------------------

// A table keeps its rows by key, newest first; `cells(row)` gives [text, class] pairs.
function table(id, key, order, cells) {
  const t = { id, key, order, cells, rows: new Map() };
  state.tables[id] = t;
  return t;
}

function upsert(t, rows, replace) {
  if (replace) t.rows.clear();
  const fresh = new Set();
  for (const row of rows) {
    const k = t.key(row);
    if (!t.rows.has(k)) fresh.add(k);
    t.rows.set(k, Object.assign({}, t.rows.get(k) || {}, row));
  }
  render(t, replace ? new Set() : fresh);
}

function render(t, fresh) {
  const sorted = [...t.rows.values()].sort(t.order).slice(0, ROWS);
  if (t.rows.size > ROWS) t.rows = new Map(sorted.map((r) => [t.key(r), r]));
  const body = document.createElement("tbody");
  for (const row of sorted) {
    const tr = document.createElement("tr");
    tr.dataset.key = t.key(row);
    if (fresh.has(t.key(row))) tr.className = "fresh";
    for (const [text, cls] of t.cells(row)) {
      const td = document.createElement("td");
      td.textContent = text === null || text === undefined ? "" : String(text);
      if (cls) td.className = cls;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  $(t.id).replaceChild(body, $(t.id).tBodies[0]);
}

const newest = (field) => (a, b) => (a[field] < b[field] ? 1 : a[field] > b[field] ? -1 : 0);

const alerts = table("alerts", (a) => a.alert_id, (a, b) => b.alert_id - a.alert_id, (a) => [
  [easternTime(a.received_at)], [a.alert_id, "num"], [a.strategy || ""], [a.ticker],
  [a.action, a.action], [number(a.qty), "num"], [number(a.price), "num"], [a.status, "s-" + a.status],
  [a.status_reason || "", "wrap"]]);
const refusals = table("refusals", (r) => r.time + "|" + r.source + "|" + r.reason, newest("time"), (r) => [
  [easternTime(r.time)], [r.source], [r.status, "num"], [r.reason, "wrap"], [r.strategy || ""],
  [r.body, "wrap"]]);
const orders = table("orders", (o) => o.id, newest("created_at"), (o) => [
  [easternTime(o.updated_at || o.created_at)], [o.id], [o.strategy || ""], [o.destination], [o.ticker],
  [o.action, o.action], [number(o.qty), "num"], [o.order_type], [o.status, "s-" + o.status],
  [number(o.filled_qty), "num"], [number(o.avg_price), "num"], [o.reason || "", "wrap"]]);
const positions = table("positions", (p) => [p.strategy, p.destination, p.ticker].join("|"),
  (a, b) => (a.strategy + a.ticker).localeCompare(b.strategy + b.ticker), (p) => [
  [p.strategy || ""], [p.destination], [p.ticker], [number(p.qty), "num " + sign(p.qty)],
  [number(p.avg_price), "num"], [number(p.mark), "num"], [money(p.unrealized_pnl), "num " + sign(p.unrealized_pnl)],
  [money(p.realized_pnl), "num " + sign(p.realized_pnl)]]);
const pnl = table("pnl", (r) => r.strategy || "", (a, b) => String(a.strategy).localeCompare(String(b.strategy)),
  (r) => [[r.strategy || "(none)"], [money(r.realized_pnl), "num " + sign(r.realized_pnl)],
  [money(r.unrealized_pnl), "num " + sign(r.unrealized_pnl)], [money(r.total_pnl), "num " + sign(r.total_pnl)],
  [money(r.realized_pnl_today), "num " + sign(r.realized_pnl_today)], [r.open_positions, "num"]]);
let scriptRow = 0;
const scriptTrades = table("script-trades", (r) => r.seq, (a, b) => b.seq - a.seq, (r) => [
  [easternTime(r.timestamp)], [r.symbol], [r.side, r.side], [number(r.quantity), "num"], [number(r.price), "num"],
  [number(r.profit_loss), "num " + sign(r.profit_loss)], [r.strategy || ""]]);
const scriptBars = table("script-bars", (r) => r.seq, (a, b) => b.seq - a.seq, (r) => [
  [easternTime(r.timestamp)], [r.symbol], [number(r.open), "num"], [number(r.high), "num"], [number(r.low), "num"],
  [number(r.close), "num"], [number(r.volume), "num"], [number(r.rsi), "num"], [number(r.signal_strength), "num"]]);

function showPnl(body) {
  upsert(pnl, body.pnl || [], true);
  const total = body.total || {};
  for (const [id, key] of [["pnl-realized", "realized_pnl"], ["pnl-unrealized", "unrealized_pnl"],
    ["pnl-total", "total_pnl"], ["pnl-today", "realized_pnl_today"]]) {
    $(id).textContent = money(total[key]);
    $(id).className = sign(total[key]);
  }
}

function showUploads(uploads) { // oldest first, so the newest rows end up on top
  for (const upload of uploads) {
    upsert(scriptTrades, (upload.trades || []).map((r) => Object.assign({ seq: ++scriptRow }, r)), false);
    upsert(scriptBars, (upload.market_data || []).map((r) => Object.assign({ seq: ++scriptRow }, r)), false);
  }
}

function showKillSwitch(ks) {
  state.killEngaged = !!ks.engaged;
  $("kill-state").textContent = ks.engaged ? "kill switch ON" + (ks.reason ? ": " + ks.reason : "") : "kill switch off";
  $("kill-state").className = "pill" + (ks.engaged ? " engaged" : "");
  $("kill").textContent = ks.engaged ? "Re-arm kill switch" : "Engage kill switch";
}

// ---- the API --------------------------------------------------------------------------------------------

async function api(method, path, body) {
  const token = state.token;
  const options = { method, headers: { Authorization: "Bearer " + token } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (response.status === 401 && token && token === state.token) { // not a late answer to a token since replaced
    signOut("The API token is no longer valid: enter the current one.");
  }
  let answer = null;
  try { answer = await response.json(); } catch (e) { answer = null; }
  return { status: response.status, body: answer };
}

async function tokenWorks(token) {
  const response = await fetch("/api/kill-switch", { headers: { Authorization: "Bearer " + token } });
  if (response.status === 401) return false;
  if (!response.ok) throw new Error("Station answered " + response.status);
  return true;
}

async function loadAll() {
  const [a, o, p, n, k, u, r] = await Promise.all([
    api("GET", "/api/alerts?limit=100"), api("GET", "/api/orders?limit=100"),
    api("GET", "/api/positions?include_flat=false"), api("GET", "/api/pnl"), api("GET", "/api/kill-switch"),
    api("GET", "/api/trading-data?limit=20"), api("GET", "/api/refusals?limit=100")]);
  if (a.status === 200) upsert(alerts, a.body.alerts, true);
  if (o.status === 200) upsert(orders, o.body.orders, true);
  if (p.status === 200) upsert(positions, p.body.positions, true);
  if (n.status === 200) showPnl(n.body);
  if (k.status === 200) showKillSwitch(k.body);
  if (u.status === 200) showUploads(u.body.uploads.slice().reverse());
  if (r.status === 200) upsert(refusals, r.body.refusals, true);
}

// ---- live -----------------------------------------------------------------------------------------------

function connectLive() {
  const socket = io({ auth: { token: state.token }, transports: ["websocket", "polling"] });
  state.socket = socket;
  const link = (text, cls) => { $("link").textContent = text; $("link").className = "pill " + cls; };
  socket.on("connect", () => { link("live", "up"); socket.emit("join_frontend", { token: state.token }); loadAll(); });
  socket.on("disconnect", () => link("reconnecting…", "down"));
  socket.on("connect_error", (error) => link("offline: " + (error && error.message ? error.message : "no link"), "down"));
  socket.on("alerts", (rows) => upsert(alerts, rows, false));
  socket.on("orders", (rows) => upsert(orders, rows, false));
  socket.on("positions", (rows) => upsert(positions, rows.filter((p) => Number(p.qty) !== 0), true));
  socket.on("pnl", showPnl);
  socket.on("kill_switch", showKillSwitch);
  socket.on("refusals", (rows) => upsert(refusals, rows, false));
  socket.on("trading_update", (upload) => showUploads([upload]));
}

// ---- confirmation and actions -------------------------------------------------------------------------

function confirmFirst(text, yes) {
  return new Promise((resolve) => {
    const dialog = $("confirm");
    $("confirm-text").textContent = text;
    $("confirm-yes").textContent = yes;
    dialog.returnValue = "no";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.showModal();
  });
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

async function flattenAll() {
  if (!await confirmFirst("Flatten every position and cancel every working order?", "Flatten All")) return;
  const { status, body } = await api("POST", "/api/manual/flatten", { reason: "dashboard" });
  toast(body && body.message ? body.message : "Station answered " + status);
}

async function toggleKillSwitch() {
  const engage = !state.killEngaged;
  const text = engage ? "Engage the kill switch? Everything is flattened and no new trade is sent until it is re-armed."
    : "Re-arm the kill switch? Trading resumes.";
  if (!await confirmFirst(text, engage ? "Engage" : "Re-arm")) return;
  const { status, body } = await api("POST", "/api/kill-switch", { engaged: engage, reason: "dashboard" });
  if (status === 200) showKillSwitch(body);
  toast(status === 200 ? (engage ? "Kill switch engaged" : "Kill switch re-armed")
    : (body && body.message) || "Station answered " + status);
}

// ---- sign in --------------------------------------------------------------------------------------------

function showLogin(message) {
  $("desk").hidden = true;
  $("login").hidden = false;
  $("login-error").hidden = !message;
  $("login-error").textContent = message || "";
  $("token").focus();
}

// Without a valid token the page shows the prompt and nothing else: the desk's rows go with the token.
function signOut(message) {
  localStorage.removeItem(TOKEN_KEY);
  if (state.socket) state.socket.disconnect();
  state.socket = null;
  clearInterval(state.refusalTimer);
  state.token = null;
  for (const t of Object.values(state.tables)) upsert(t, [], true);
  showLogin(message);
}

async function loadRefusals() {
  const r = await api("GET", "/api/refusals?limit=100");
  if (r.status === 200) upsert(refusals, r.body.refusals, false);
}

function openDesk(token) {
  state.token = token;
  $("login").hidden = true;
  $("desk").hidden = false;
  loadAll();
  connectLive();
  // refused requests also come live (`refusals`); this keeps the table current where they do not
  clearInterval(state.refusalTimer);
  state.refusalTimer = setInterval(() => { if (state.token) loadRefusals(); }, 5000);
}

async function signIn(token) {
  try {
    if (!await tokenWorks(token)) {
      localStorage.removeItem(TOKEN_KEY);
      showLogin("That token is not this Station's API token.");
      return;
    }
  } catch (error) {
    showLogin("Station cannot be reached: " + error.message);
    return;
  }
  localStorage.setItem(TOKEN_KEY, token);
  openDesk(token);
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    $("token").value = "";
    if (token) signIn(token);
  });
  $("flatten").addEventListener("click", flattenAll);
  $("kill").addEventListener("click", toggleKillSwitch);
  $("sign-out").addEventListener("click", () => signOut(""));
  const saved = localStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved); else showLogin("");
});
