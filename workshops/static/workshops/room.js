// The live room: one websocket, events applied in sequence order, nothing typed is lost.
// The server renders every fragment; this module only places them, counts the timer down,
// queues what is typed while offline and catches up after a reconnect.

const room = document.getElementById("room");
document.documentElement.classList.add("js");  // CSS hides what only helps without JavaScript
const workshopId = room.dataset.workshop;
// The projector (the room's shared screen) re-reads its server-rendered view on every change.
const projector = room.dataset.mode === "projector";
const conn = document.getElementById("connection");
const toast = document.getElementById("toast");
const OUTBOX = `codev:outbox:${workshopId}`;
const DRAFT = `codev:draft:${workshopId}:`;

let lastSeq = Number(room.dataset.seq);
let socket = null;
let syncing = false;
let retries = 0;
let pingTimer = null;

const uuid = () =>
  crypto.randomUUID ? crypto.randomUUID() :
  "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
    (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));

// --- outbox: messages sent but not yet acknowledged, kept across reloads ---------------------
const loadOutbox = () => { try { return JSON.parse(localStorage.getItem(OUTBOX)) || []; } catch { return []; } };
const saveOutbox = (box) => localStorage.setItem(OUTBOX, JSON.stringify(box));

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function submit(message) {
  const box = loadOutbox().filter((m) => m.ref !== message.ref);
  box.push(message);
  saveOutbox(box);
  send(message);
}

function settle(ref) {
  saveOutbox(loadOutbox().filter((m) => m.ref !== ref));
}

// --- forms -----------------------------------------------------------------------------------
const LISTS = new Set(["help_kinds", "kept", "votes"]);

function formKey(form) { return form.dataset.key || form.dataset.type; }

function messageOf(form, submitter) {
  const data = new FormData(form, submitter);
  const message = {};
  for (const [name, value] of data.entries()) {
    if (name === "csrfmiddlewaretoken") continue;
    if (LISTS.has(name)) (message[name] ||= []).push(value); else message[name] = value;
  }
  for (const name of LISTS) if (form.querySelector(`[name="${name}"]`) && !message[name]) message[name] = [];
  message.ref = message.cid || uuid();
  return message;
}

room.addEventListener("submit", (e) => {
  const form = e.target.closest("form.act");
  if (!form) return;
  e.preventDefault();
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
  const message = messageOf(form, e.submitter);
  form.dataset.ref = message.ref;
  form.classList.add("pending");
  showFormError(form, "");
  submit(message);
});

room.addEventListener("input", (e) => {
  const form = e.target.closest("form.act");
  if (form && e.target.name && !form.hasAttribute("data-keep")) {
    localStorage.setItem(DRAFT + formKey(form) + ":" + e.target.name, e.target.value);
  }
});

function restoreDrafts() {
  room.querySelectorAll("form.act:not([data-keep])").forEach((form) => {
    form.querySelectorAll("textarea, input[type=text], input:not([type])").forEach((field) => {
      const draft = localStorage.getItem(DRAFT + formKey(form) + ":" + field.name);
      if (draft && !field.value) field.value = draft;
    });
  });
}

// A re-render (someone else voted, the step changed…) must not undo choices being made in a form
// not yet sent: what differs from the server's defaults is carried over, field by field.
function changed(field) {
  if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
  if (field.tagName === "SELECT") return [...field.options].some((o) => o.selected !== o.defaultSelected);
  return field.value !== field.defaultValue;
}

function uniqueForms() {
  const forms = [...room.querySelectorAll("form.act")];
  const count = {};
  forms.forEach((f) => { count[formKey(f)] = (count[formKey(f)] || 0) + 1; });
  return forms.filter((f) => count[formKey(f)] === 1);  // only a form we can find again for sure
}

function unsentEdits() {
  const edits = [];
  uniqueForms().forEach((form) => {
    form.querySelectorAll("select[name], input[name]:not([type=hidden]), textarea[name]").forEach((field, index) => {
      if (changed(field)) edits.push({ key: formKey(form), index, value: field.value, checked: field.checked });
    });
  });
  return edits;
}

function reapply(edits) {
  for (const edit of edits) {
    const form = uniqueForms().find((f) => formKey(f) === edit.key);
    const field = form && form.querySelectorAll("select[name], input[name]:not([type=hidden]), textarea[name]")[edit.index];
    if (!field) continue;
    if (field.type === "checkbox" || field.type === "radio") field.checked = edit.checked; else field.value = edit.value;
  }
}

// Where the keyboard focus is, found again after a re-render: by id, else by its place among the
// focusable elements of its (unique) form or of its nearest element with an id. The caret too.
const FOCUSABLE = "a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]";

function focusMark() {
  const el = document.activeElement;
  if (!el || el === room || !room.contains(el)) return null;
  const form = el.closest("form.act");
  const keyed = form && uniqueForms().includes(form);
  const scope = keyed ? form : el.parentElement.closest("[id]");
  const place = scope && scope !== room ? [...scope.querySelectorAll(FOCUSABLE)].indexOf(el) : -1;
  return { id: el.id, key: keyed ? formKey(form) : null, scope: !keyed && scope ? scope.id : null, place,
    caret: typeof el.selectionStart === "number" ? [el.selectionStart, el.selectionEnd] : null };
}

function refocus(mark, fallback) {
  if (!mark || (document.activeElement && document.activeElement !== document.body)) return;
  const scope = mark.key ? uniqueForms().find((f) => formKey(f) === mark.key) : mark.scope && document.getElementById(mark.scope);
  let el = (mark.id && document.getElementById(mark.id)) || (scope && mark.place >= 0 && scope.querySelectorAll(FOCUSABLE)[mark.place]);
  if (!el && fallback) { fallback.tabIndex = -1; el = fallback; }  // the control is gone: stay at its place
  if (!el) return;
  el.focus({ preventScroll: true });
  if (mark.caret && typeof el.setSelectionRange === "function") el.setSelectionRange(...mark.caret);
}

function formFor(ref) { return room.querySelector(`form.act[data-ref="${CSS.escape(String(ref))}"]`); }

function showFormError(form, text) {
  const slot = form.querySelector(".form-error");
  if (slot) slot.textContent = text;
}

function acknowledged(ref) {
  settle(ref);
  const form = formFor(ref);
  if (!form) return;
  form.classList.remove("pending", "hinted");
  delete form.dataset.ref;
  if (form.hasAttribute("data-keep")) return;
  form.querySelectorAll("textarea, input[name]:not([type=hidden]):not([type=checkbox]):not([type=radio])").forEach((field) => {
    localStorage.removeItem(DRAFT + formKey(form) + ":" + field.name);
    field.value = "";
  });
  form.querySelectorAll("input[type=checkbox]").forEach((box) => { box.checked = false; });
  const cid = form.querySelector('input[name="cid"]');
  if (cid) cid.value = uuid();
}

function refused(ref, text, code) {
  if (ref != null) settle(ref);
  const form = ref != null && formFor(ref);
  if (form) {
    form.classList.remove("pending");
    delete form.dataset.ref;
    showFormError(form, text);
    // Advice in disguise: the hint stays by the form, which now offers "post it anyway".
    if (code === "advice") { form.classList.add("hinted"); return; }
  }
  flash(text);
}

function flash(text) {
  toast.textContent = text;
  toast.hidden = false;
  clearTimeout(flash.timer);
  flash.timer = setTimeout(() => { toast.hidden = true; }, 6000);
}

// --- applying what the server sends ---------------------------------------------------------
function fragment(html) {
  const t = document.createElement("template");
  t.innerHTML = html;
  return t.content.firstElementChild;
}

function apply(op) {
  if (op.op === "room" && clockView) {
    refreshParts(["room"], location.pathname);  // the clock renders its own page, not the room
  } else if (op.op === "room") {
    const focused = focusMark();
    const edits = unsentEdits();
    // A panel the member opened (the facilitator's script) stays open across re-renders.
    const opened = [...room.querySelectorAll("details[data-keep-open][open]")].map((d) => d.id);
    room.innerHTML = op.html;
    opened.forEach((id) => document.getElementById(id)?.setAttribute("open", ""));
    restoreDrafts();
    reapply(edits);
    startTimer();
    refocus(focused);
  } else if (op.op === "upsert") {
    const node = fragment(op.html);
    if (!node || !node.id) return;
    const existing = document.getElementById(node.id);
    if (existing) {
      // Keep an answer being typed inside the element being replaced, and the focus.
      const typing = existing.contains(document.activeElement) ? document.activeElement : null;
      const focused = typing && focusMark();
      if (typing && typing.name && typing.matches("textarea, input")) {
        const twin = node.querySelector(`[name="${CSS.escape(typing.name)}"]`);
        if (twin) { twin.value = typing.value; }
      }
      existing.replaceWith(node);
      refocus(focused, node);
    } else if (op.into) {
      document.getElementById(op.into)?.append(node);
    }
  } else if (op.op === "timer") {
    const el = document.getElementById("timer");
    if (el && op.run) el.dataset.run = op.run;  // a restart: its cues may come again
    if (el) setTimer(el, op.timer);
  } else if (op.op === "refresh") {
    refreshParts(op.ids);
  }
}

function onEvent(msg) {
  if (msg.seq <= lastSeq) return;  // already shown
  if (msg.seq > lastSeq + 1 && !msg.catchup) {
    // A gap: something we may not have seen. Ask for it rather than guess.
    if (!syncing) requestSync();
    return;
  }
  msg.ops.forEach(apply);
  lastSeq = msg.seq;
}

function onMessage(raw) {
  let msg;
  try { msg = JSON.parse(raw.data); } catch { return; }
  if (projector) { onProjectorMessage(msg); return; }
  switch (msg.type) {
    case "event": onEvent(msg); break;
    case "snapshot":
      if (msg.seq >= lastSeq) { msg.ops.forEach(apply); lastSeq = msg.seq; }
      syncing = false;
      break;
    case "synced": lastSeq = Math.max(lastSeq, msg.seq); syncing = false; break;
    case "presence": msg.ops.forEach(apply); break;
    case "ack": acknowledged(msg.ref); break;
    case "error": refused(msg.ref, msg.message, msg.code); break;
    case "pong": if (msg.seq > lastSeq && !syncing) requestSync(); break;
  }
}

function requestSync() {
  syncing = true;
  send({ type: "sync", since: lastSeq });
}

// --- the connection ---------------------------------------------------------------------------
function setStatus(online) {
  conn.textContent = online ? "" : conn.dataset.offline;
  conn.classList.toggle("offline", !online);
  document.body.dataset.connected = online ? "1" : "0";
}

let reconnectTimer = null;

// One socket at a time: a retry timer and the browser's "online" event may both want to
// reconnect, and a socket left behind would resend the outbox and apply every event twice.
function connect() {
  clearTimeout(reconnectTimer);
  reconnectTimer = null;
  if (socket && (socket.readyState === WebSocket.CONNECTING || socket.readyState === WebSocket.OPEN)) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws/workshops/${workshopId}/`);
  socket = ws;
  ws.addEventListener("open", () => {
    if (ws !== socket) return;
    retries = 0;
    setStatus(true);
    requestSync();
    loadOutbox().forEach((m) => send(m));  // idempotent on the server: same cid, stored once
    clearInterval(pingTimer);
    pingTimer = setInterval(() => send({ type: "ping" }), 25000);
  });
  ws.addEventListener("message", (e) => { if (ws === socket) onMessage(e); });
  ws.addEventListener("close", (e) => {
    if (ws !== socket) return;  // a socket already given up (see `drop`)
    clearInterval(pingTimer);
    setStatus(false);
    syncing = false;
    if (e.code === 4401 || e.code === 4403 || e.code === 4404) { location.reload(); return; }
    const delay = Math.min(10000, 300 * 2 ** retries++) * (0.5 + Math.random() / 2);
    reconnectTimer = setTimeout(connect, navigator.onLine === false ? 1000 : delay);
  });
}

// The network is gone: give the socket up at once (its closing handshake may never complete),
// keep what is typed in the outbox, and try again until the browser is back online.
function drop() {
  if (!socket) return;
  const old = socket;
  socket = null;
  old.close();
  clearInterval(pingTimer);
  setStatus(false);
  syncing = false;
  clearTimeout(reconnectTimer);
  reconnectTimer = setTimeout(connect, 1000);
}

window.addEventListener("offline", drop);
window.addEventListener("online", () => { retries = 0; connect(); });
document.addEventListener("visibilitychange", () => { if (!document.hidden) send({ type: "ping" }); });

// --- the step timer: the server gives duration and elapsed; the browser counts ----------------
let timerState = null;

function setTimer(el, state) {
  timerState = { ...state, receivedAt: performance.now() };
  el.dataset.duration = state.duration;
  el.dataset.elapsed = state.elapsed;
  el.dataset.running = state.running ? "1" : "0";
  renderTimer();
  timerButtons(state.running);
}

// The facilitator's pause/resume pair: timer events change the countdown, not the controls.
function timerButtons(running) {
  room.querySelectorAll('form.act[data-type="timer"]').forEach((form) => {
    const pause = form.querySelector('button[name="op"][value="pause"]');
    const resume = form.querySelector('button[name="op"][value="resume"]');
    if (pause) pause.hidden = !running;
    if (resume) resume.hidden = running;
  });
}

function startTimer() {
  const el = document.getElementById("timer");
  if (!el) { timerState = null; return; }
  timerState = {
    duration: Number(el.dataset.duration),
    elapsed: Number(el.dataset.elapsed),
    running: el.dataset.running === "1",
    at: el.dataset.at,
    receivedAt: performance.now(),
  };
  soundButton();
  renderTimer();
}

const pad = (n) => String(n).padStart(2, "0");

function renderTimer() {
  const el = document.getElementById("timer");
  if (!el || !timerState) return;
  const since = timerState.running ? (performance.now() - timerState.receivedAt) / 1000 : 0;
  const left = Math.round(timerState.duration - timerState.elapsed - since);
  const abs = Math.abs(left);
  const text = `${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  el.classList.toggle("overtime", left < 0);
  el.classList.toggle("warning", left >= 0 && left <= 60);
  el.classList.toggle("paused", !timerState.running);
  if (timerState.running && left <= 60) cue(el, left <= 0 ? "timesUp" : "warning");
  renderAgenda(left);
  el.textContent = left < 0 ? el.dataset.overtime.replace("{time}", `+${text}`)
    : timerState.running ? text : el.dataset.paused.replace("{time}", text);
}

// --- cues: "1 minute left", then "time is up", each once per timer run ----------------------------
// A run is the step entered or the timer restarted (data-run, a sequence number) at a duration:
// an extension makes a new run. What has fired is remembered per page kind, so neither a
// re-render nor a reconnection nor a reload repeats it.
const CUES = `codev:cues:${workshopId}:${projector ? "projector" : "room"}`;
const SOUND = "codev:sound";
const cueBox = document.getElementById("cue");
let audio = null;

function cue(el, kind) {
  const key = `${el.dataset.run}:${el.dataset.duration}:${kind}`;
  let fired = [];
  try { fired = JSON.parse(localStorage.getItem(CUES)) || []; } catch { /* start afresh */ }
  if (fired.includes(key)) return;
  localStorage.setItem(CUES, JSON.stringify([...fired, key].slice(-20)));
  el.classList.remove("cue-flash");
  void el.offsetWidth;  // restart the flash animation
  el.classList.add("cue-flash");
  if (cueBox) {
    cueBox.textContent = el.dataset[kind];
    clearTimeout(cue.timer);
    cue.timer = setTimeout(() => { cueBox.textContent = ""; }, 10000);
  }
  if (kind === "timesUp" && !projector && localStorage.getItem(SOUND) === "1") beep();
}

// A short tone made on the spot: no audio file to fetch. Browsers let sound start only after a
// gesture, hence the context made on the member's click (or first key/touch after a reload).
function unlockAudio() {
  try { audio ||= new AudioContext(); audio.resume(); } catch { audio = null; }
}

function beep() {
  unlockAudio();
  if (!audio) return;
  const tone = audio.createOscillator();
  const gain = audio.createGain();
  tone.frequency.value = 880;
  gain.gain.setValueAtTime(0.25, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.7);
  tone.connect(gain).connect(audio.destination);
  tone.start();
  tone.stop(audio.currentTime + 0.7);
}

function soundButton() {
  const button = document.getElementById("sound-toggle");
  if (!button) return;
  button.hidden = false;  // without JavaScript there is no sound to switch on
  button.setAttribute("aria-pressed", localStorage.getItem(SOUND) === "1" ? "true" : "false");
}

room.addEventListener("click", (e) => {
  if (!e.target.closest("#sound-toggle")) return;
  const on = localStorage.getItem(SOUND) !== "1";
  localStorage.setItem(SOUND, on ? "1" : "0");
  soundButton();
  if (on) beep();  // what it will sound like
});
["pointerdown", "keydown"].forEach((type) => document.addEventListener(type, () => {
  if (localStorage.getItem(SOUND) === "1") unlockAudio();
}, { once: true }));

// --- the agenda's expected end moves with the timer: now + what the step has left + the steps ahead
const clocks = {};

function renderAgenda(left) {
  const card = document.getElementById("agenda");
  if (!card || card.dataset.live !== "1" || !timerState.at) return;
  const now = Date.parse(timerState.at) + (performance.now() - timerState.receivedAt);
  const end = now + (Math.max(0, left) + Number(card.dataset.ahead)) * 1000;
  const drift = Math.round((end / 1000 - Number(card.dataset.plannedEnd)) / 60);
  const tz = card.dataset.tz;
  clocks[tz] ||= new Intl.DateTimeFormat(document.documentElement.lang || undefined,
    { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: tz });
  card.querySelector("[data-projected-end]").textContent = clocks[tz].format(end);
  const label = drift > 0 ? card.dataset.late : drift < 0 ? card.dataset.early : card.dataset.onTime;
  const shown = card.querySelector("[data-drift]");
  shown.textContent = `(${label.replace("{n}", Math.abs(drift))})`;
  shown.classList.toggle("late", drift > 0);
  const spent = card.querySelector("[data-since]");
  if (spent) spent.textContent = card.dataset.minutes.replace("{n}", Math.max(0, Math.round(now / 60000 - Number(spent.dataset.since) / 60)));
}

// --- the projector: no forms, no local state; the server renders its view afresh ------------------
let refreshTimer = null;
let refreshCount = 0;

function onProjectorMessage(msg) {
  if (!["event", "snapshot", "synced", "pong"].includes(msg.type)) return;
  if (msg.type === "pong" && !(msg.seq > lastSeq)) return;
  lastSeq = Math.max(lastSeq, msg.seq || 0);
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshProjector, 150);  // a burst of events, one fetch
}

async function refreshProjector() {
  const mine = ++refreshCount;
  let answer;
  try { answer = await fetch(`${location.pathname}?fragment=1`, { credentials: "same-origin" }); } catch { return; }
  if (answer.status === 403 || answer.status === 404) { location.reload(); return; }
  if (!answer.ok || mine !== refreshCount) return;
  const html = await answer.text();
  if (mine !== refreshCount) return;  // a newer fetch is under way: it wins
  room.innerHTML = html;
  startTimer();
}

// --- speaking: the facilitator's figures are fetched (never sent in an event); times tick -------
const clockView = room.dataset.view === "clock";
let partsTimer = null;

function refreshParts(ids, url) {
  const shown = ids.map((id) => document.getElementById(id)).filter(Boolean);
  const src = url || shown.map((el) => el.dataset.src).find(Boolean);
  if (!shown.length || !src) return;
  clearTimeout(partsTimer);
  partsTimer = setTimeout(() => fetchParts(src, ids), 100);  // a burst of events, one fetch
}

async function fetchParts(src, ids) {
  let answer;
  try { answer = await fetch(src, { credentials: "same-origin" }); } catch { return; }
  if (!answer.ok) return;
  const page = new DOMParser().parseFromString(await answer.text(), "text/html");
  for (const id of ids) {
    const fresh = page.getElementById(id);
    const old = document.getElementById(id);
    if (!fresh || !old) continue;
    const focused = old.contains(document.activeElement) ? focusMark() : null;
    if (id === "room") old.innerHTML = fresh.innerHTML; else old.replaceWith(document.importNode(fresh, true));
    refocus(focused, document.getElementById(id));
  }
}

function renderTicking() {
  document.querySelectorAll(".ticking[data-elapsed]").forEach((el) => {
    el.dataset.t0 ||= performance.now();
    const s = Math.max(0, Math.round(Number(el.dataset.elapsed) + (performance.now() - Number(el.dataset.t0)) / 1000));
    el.textContent = `${Math.floor(s / 60)}:${pad(s % 60)}`;
  });
}

setInterval(renderTicking, 500);
setInterval(renderTimer, 500);
startTimer();
restoreDrafts();
connect();
