// odio label: one tweet at a time, a key per label. Every text from the server is untrusted
// and is only ever set with textContent (never innerHTML). State lives in the server's
// SQLite project: this page keeps only the annotator's name (and token, for the session).
"use strict";

const state = { labels: [], kind: "label", tweet: null, chosen: new Set(), busy: false };
const $ = (id) => document.getElementById(id);

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

function credentials() {
  return { name: localStorage.getItem("odio-label-name") || "",
           token: sessionStorage.getItem("odio-label-token") || "" };
}

async function api(method, path, body) {
  const { name, token } = credentials();
  const headers = { "X-Odio-Annotator": encodeURIComponent(name) };
  if (token) headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers,
    body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (response.status === 401 || response.status === 403) {
    showLogin(data.error || "refused");
    throw new Error(data.error);
  }
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function showLogin(message) {
  $("work").hidden = true;
  $("login").hidden = false;
  $("name").value = credentials().name;
  $("message").textContent = "";
  const old = document.querySelector("#login .error");
  if (old) old.remove();
  if (message) $("login").append(el("p", message, { class: "error", role: "alert" }));
  $("name").focus();
}

function key(i) { return i < 9 ? String(i + 1) : null; }

function buildButtons() {
  const bar = $("buttons");
  bar.replaceChildren();
  state.labels.forEach((label, i) => {
    const b = el("button", null, { type: "button", "aria-pressed": "false", "data-label": label });
    if (key(i)) b.append(el("kbd", key(i)));
    b.append(document.createTextNode(label));
    b.addEventListener("click", () => toggle(i));
    bar.append(b);
  });
  const actions = [
    ["none", "0", "not hate", () => answer([], false)],
    ["save", "Enter", state.kind === "review" ? "confirm / save" : "save", () => answer([...state.chosen], false)],
    ["skip", "s", "skip", () => answer([], true)],
    ["undo", "u", "undo", undo],
  ];
  for (const [name, k, text, act] of actions) {
    const b = el("button", null, { type: "button", class: name === "save" ? "save" : "action", "data-action": name });
    b.append(el("kbd", k), document.createTextNode(text));
    b.addEventListener("click", act);
    bar.append(b);
  }
  $("keys").textContent = "Keys: 1-" + Math.min(9, state.labels.length) +
    " mark a label (a target group marks " + state.labels[0] + " too), Enter saves, 0 = not hate, s skips, u undoes, p shows the model.";
}

function toggle(i) {
  if (!state.tweet) return;
  const label = state.labels[i];
  if (state.chosen.has(label)) {
    state.chosen.delete(label);
    if (i === 0) state.chosen.clear();  // no target group without the main label
  } else {
    state.chosen.add(label);
    if (i > 0) state.chosen.add(state.labels[0]);
  }
  paintChoice();
}

function paintChoice() {
  for (const b of document.querySelectorAll("#buttons button[data-label]")) {
    b.setAttribute("aria-pressed", String(state.chosen.has(b.dataset.label)));
  }
}

function showTweet(tweet) {
  state.tweet = tweet;
  state.chosen = new Set(tweet && tweet.current ? tweet.current : []);
  $("done").hidden = tweet !== null;
  $("card").hidden = tweet === null;
  if (!tweet) { paintChoice(); return; }
  $("text").textContent = tweet.text;
  const context = $("context");
  context.replaceChildren();
  if (tweet.key !== null) context.append(el("dt", "id"), el("dd", tweet.key));
  for (const [name, value] of Object.entries(tweet.context || {})) {
    if (value === null || value === "") continue;
    context.append(el("dt", name), el("dd", value));
  }
  $("current").hidden = !tweet.current;
  $("current-labels").textContent = tweet.current ? (tweet.current.join(", ") || "not hate") : "";
  const probs = $("probs");
  probs.replaceChildren();
  if (tweet.probs) {
    probs.append(el("span", "model: " + Object.entries(tweet.probs)
      .map(([l, p]) => l + " " + Number(p).toFixed(2)).join(" · ")));
  }
  paintProbs();
  paintChoice();
}

function paintProbs() {
  $("probs").hidden = !$("show-probs").checked || !state.tweet || !state.tweet.probs;
}

function showProgress(p) {
  const me = p.annotators[credentials().name.trim()] || { votes: 0, skips: 0 };
  $("progress").textContent = "labelled " + p.labelled + " / " + p.total + " tweets · " +
    p.complete + " with " + p.votes_needed + " votes · you: " + me.votes + " votes, " + me.skips + " skips";
  const body = document.querySelector("#annotators tbody");
  body.replaceChildren();
  for (const [name, n] of Object.entries(p.annotators)) {
    const row = el("tr");
    row.append(el("td", name), el("td", n.votes), el("td", n.skips));
    body.append(row);
  }
}

async function showAgreement() {
  const data = await api("GET", "/api/agreement");
  const body = document.querySelector("#agreement tbody");
  body.replaceChildren();
  for (const [label, alpha] of Object.entries(data.alpha)) {
    const row = el("tr");
    row.append(el("td", label), el("td", alpha === null ? "n/a" : Number(alpha).toFixed(2)));
    body.append(row);
  }
}

async function step(promise) {
  if (state.busy) return;
  state.busy = true;
  $("message").textContent = "";
  try {
    const data = await promise();
    showTweet(data.tweet);
    showProgress(data.progress);
    showAgreement().catch(() => {});
  } catch (error) {
    $("message").textContent = error.message;
  } finally {
    state.busy = false;
  }
}

function answer(labels, skip) {
  if (!state.tweet) return;
  const tweet = state.tweet.id;
  return step(() => api("POST", "/api/vote", { tweet, labels, skip }));
}

function undo() { return step(() => api("POST", "/api/undo", {})); }

async function start() {
  if (!credentials().name) { showLogin(); return; }
  try {
    const session = await api("GET", "/api/session");
    state.labels = session.labels;
    state.kind = session.kind;
    $("who").textContent = "annotator: " + session.annotator;
    $("login").hidden = true;
    $("work").hidden = false;
    if (document.activeElement && document.activeElement.tagName === "INPUT") document.activeElement.blur();
    buildButtons();
    await step(() => api("GET", "/api/next"));
  } catch (error) {
    if ($("login").hidden) $("message").textContent = error.message;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    localStorage.setItem("odio-label-name", $("name").value.trim());
    sessionStorage.setItem("odio-label-token", $("token").value);
    start();
  });
  $("logout").addEventListener("click", () => {
    localStorage.removeItem("odio-label-name");
    sessionStorage.removeItem("odio-label-token");
    showLogin();
  });
  $("show-probs").addEventListener("change", paintProbs);
  document.addEventListener("keydown", (event) => {
    if ($("work").hidden || event.target.tagName === "INPUT" || event.ctrlKey || event.metaKey || event.altKey) return;
    const k = event.key;
    if (k >= "1" && k <= "9" && Number(k) <= state.labels.length) toggle(Number(k) - 1);
    else if (k === "0" || k === "n") answer([], false);
    else if (k === "Enter") answer([...state.chosen], false);
    else if (k === "s") answer([], true);
    else if (k === "u" || k === "Backspace") undo();
    else if (k === "p") { $("show-probs").checked = !$("show-probs").checked; paintProbs(); }
    else return;
    event.preventDefault();
  });
  start();
});
